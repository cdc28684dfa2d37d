import { MicroBatcher } from './batcher';

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
