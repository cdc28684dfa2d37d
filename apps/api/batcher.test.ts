import { MicroBatcher, QueueFullError, Settled, WithdrawnError } from './batcher';

const tick = () => new Promise((r) => setImmediate(r));

test('requests of one turn go together; those arriving during a run wait for the next run', async () => {
  const runs: number[][] = [];
  let release: () => void = () => undefined;
  const batcher = new MicroBatcher<number, number>(
    async (items) => {
      runs.push(items);
      await new Promise<void>((r) => (release = r));
      return items.map((i) => i * 10);
    },
    { maxBatch: 100, maxConcurrent: 1 },
  );
  const first = [1, 2, 3].map((i) => batcher.submit(i));
  await tick();
  expect(runs).toEqual([[1, 2, 3]]);
  const second = [4, 5].map((i) => batcher.submit(i));
  await tick();
  expect(runs).toEqual([[1, 2, 3]]); // no joining a run in flight
  release();
  expect(await Promise.all(first)).toEqual([10, 20, 30]);
  await tick();
  expect(runs).toEqual([
    [1, 2, 3],
    [4, 5],
  ]);
  release();
  expect(await Promise.all(second)).toEqual([40, 50]);
  await batcher.drained();
  expect(batcher.pending).toBe(0);
});

test('maxBatch splits; maxConcurrent runs in parallel', async () => {
  const runs: number[][] = [];
  let active = 0;
  let peak = 0;
  const batcher = new MicroBatcher<number, number>(
    async (items) => {
      runs.push(items);
      peak = Math.max(peak, ++active);
      await tick();
      active--;
      return items;
    },
    { maxBatch: 2, maxConcurrent: 2 },
  );
  const all = await Promise.all([1, 2, 3, 4, 5].map((i) => batcher.submit(i)));
  expect(all).toEqual([1, 2, 3, 4, 5]);
  expect(runs).toEqual([[1, 2], [3, 4], [5]]);
  expect(peak).toBe(2);
});

test('a failed run fails its items only', async () => {
  let n = 0;
  const batcher = new MicroBatcher<number, number>(
    async (items) => {
      if (n++ === 0) throw new Error('boom');
      return items;
    },
    { maxBatch: 10, maxConcurrent: 1 },
  );
  const a = batcher.submit(1);
  await expect(a).rejects.toThrow('boom');
  await expect(batcher.submit(2)).resolves.toBe(2);
});

test('maxWeight bounds a run by the total weight of its items, taking at least one', async () => {
  const runs: number[][] = [];
  const batcher = new MicroBatcher<number, number>(
    async (items) => {
      runs.push(items);
      return items;
    },
    { maxBatch: 100, maxConcurrent: 1, weigh: (i) => i, maxWeight: 10 },
  );
  await Promise.all([4, 5, 1, 20, 3, 3, 3, 3].map((i) => batcher.submit(i)));
  expect(runs).toEqual([[4, 5, 1], [20], [3, 3, 3], [3]]);
});

/** A batcher whose runs hang until released (a send during a Kafka outage). */
function hanging(options: { maxQueued?: number } = {}) {
  const runs: number[][] = [];
  const releases: (() => void)[] = [];
  const batcher = new MicroBatcher<number, number>(
    async (items) => {
      runs.push(items);
      await new Promise<void>((r) => releases.push(r));
      return items;
    },
    { maxBatch: 100, maxConcurrent: 1, ...options },
  );
  return { batcher, runs, release: () => releases.shift()?.() };
}

test('maxQueued: a submit beyond the bound rejects at once; the run in flight does not count', async () => {
  const { batcher, runs, release } = hanging({ maxQueued: 2 });
  const first = batcher.submit(1);
  await tick();
  expect(runs).toEqual([[1]]);
  const queued = [batcher.submit(2), batcher.submit(3)];
  await expect(batcher.submit(4)).rejects.toBeInstanceOf(QueueFullError);
  expect(batcher.pending).toBe(3);
  release();
  await first;
  await tick();
  release();
  expect(await Promise.all(queued)).toEqual([2, 3]);
  expect(runs).toEqual([[1], [2, 3]]);
});

test('a withdrawn item is never run; one a run took cannot be withdrawn', async () => {
  const { batcher, runs, release } = hanging();
  const taken = batcher.enqueue(1);
  await tick();
  const waiting = batcher.enqueue(2);
  expect(taken.withdraw()).toBe(false);
  expect(waiting.withdraw()).toBe(true);
  expect(waiting.withdraw()).toBe(false);
  await expect(waiting.result).rejects.toBeInstanceOf(WithdrawnError);
  release();
  await expect(taken.result).resolves.toBe(1);
  await batcher.drained();
  expect(runs).toEqual([[1]]);
});

test('an item whose deadline passed while it waited is never run, and frees its place in a full queue', async () => {
  const { batcher, runs, release } = hanging({ maxQueued: 1 });
  const first = batcher.submit(1);
  await tick();
  const late = batcher.enqueue(2, Date.now() + 20);
  await expect(batcher.submit(3)).rejects.toBeInstanceOf(QueueFullError);
  await new Promise((r) => setTimeout(r, 30));
  const next = batcher.submit(4); // the expired item leaves the full queue
  await expect(late.result).rejects.toBeInstanceOf(WithdrawnError);
  release();
  await first;
  await tick();
  release();
  await expect(next).resolves.toBe(4);
  expect(runs).toEqual([[1], [4]]);
});

test('clear rejects what waits and leaves the run in flight alone', async () => {
  const { batcher, runs, release } = hanging();
  const first = batcher.submit(1);
  await tick();
  const waiting = batcher.submit(2);
  batcher.clear('stopping');
  await expect(waiting).rejects.toThrow('not run: stopping');
  release();
  await expect(first).resolves.toBe(1);
  await batcher.drained();
  expect(runs).toEqual([[1]]);
});

describe('enqueueAll: a group with one deadline and a callback per item', () => {
  const outcomes = () => {
    const seen: Record<number, unknown> = {};
    const settle = (i: number, o: Settled<number>) => {
      if (i in seen) throw new Error(`item ${i} settled twice`);
      seen[i] = o.ok ? o.value : o.error.name;
    };
    return { seen, settle };
  };

  test('each item settles once with its own result; a group splits over runs like single items', async () => {
    const { batcher, runs, release } = hanging();
    const first = batcher.submit(0);
    await tick();
    const { seen, settle } = outcomes();
    batcher.enqueueAll([1, 2, 3], Infinity, settle);
    expect(seen).toEqual({});
    release();
    await first;
    await tick();
    expect(runs).toEqual([[0], [1, 2, 3]]);
    release();
    await batcher.drained();
    expect(seen).toEqual({ 0: 1, 1: 2, 2: 3 });
  });

  test('withdraw takes back the items no run took, and only those', async () => {
    const { batcher, runs, release } = hanging();
    const { seen, settle } = outcomes();
    // two runs' worth: maxBatch 100, so the first run takes 100 items and the rest wait
    const group = batcher.enqueueAll(
      Array.from({ length: 150 }, (_, i) => i),
      Infinity,
      settle,
    );
    await tick();
    expect(runs.map((r) => r.length)).toEqual([100]);
    expect(group.withdraw()).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
    expect(group.withdraw()).toEqual([]);
    release();
    await batcher.drained();
    expect(runs.map((r) => r.length)).toEqual([100]);
    expect(Object.values(seen).filter((v) => v === 'WithdrawnError')).toHaveLength(50);
    expect(seen[99]).toBe(99);
  });

  test('items beyond maxQueued are refused at once (QueueFullError); the others go on', async () => {
    const { batcher, release } = hanging({ maxQueued: 2 });
    const first = batcher.submit(0);
    await tick();
    const { seen, settle } = outcomes();
    batcher.enqueueAll([1, 2, 3, 4], Infinity, settle);
    expect(seen).toEqual({ 2: 'QueueFullError', 3: 'QueueFullError' });
    release();
    await first;
    await tick();
    release();
    await batcher.drained();
    expect(seen).toEqual({ 0: 1, 1: 2, 2: 'QueueFullError', 3: 'QueueFullError' });
  });
});
