import { createLogger } from '../log';
import { ConsumerEvents } from './events';
import { MirroredOffset, OffsetMirror } from './mirror';

const quiet = createLogger('t', 'error');
const info = (partition: number, nextOffset: bigint) => ({ topic: 't', partition, firstOffset: 0n, nextOffset, highWatermark: nextOffset });
const committed = { records: 1, deadLetters: 0, seconds: 0.01 };
const tick = () => new Promise((r) => setImmediate(r));

/** A Kafka group whose commits the test answers one by one. */
function fakeGroup() {
  const calls: { offsets: MirroredOffset[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  const commit = (offsets: MirroredOffset[]) => new Promise<void>((resolve, reject) => calls.push({ offsets, resolve, reject }));
  const sent = () => calls.map((c) => c.offsets.map((o) => `${o.partition}@${o.offset}`).join(' '));
  return { calls, commit, sent };
}

function mirrorOf(group: ReturnType<typeof fakeGroup>, positions = new Map<number, bigint>(), intervalMs = 0) {
  const events = new ConsumerEvents();
  const mirror = new OffsetMirror({ topic: 't', events, log: quiet, commit: group.commit, positions: async () => positions, retryMs: 10, intervalMs });
  return { events, mirror };
}

test('one commit in flight; offsets committed meanwhile wait, the latest of each partition wins', async () => {
  const group = fakeGroup();
  const { events } = mirrorOf(group);
  events.emit('batch:committed', info(0, 10n), committed);
  events.emit('batch:committed', info(1, 5n), committed);
  events.emit('batch:committed', info(0, 20n), committed);
  events.emit('batch:committed', info(0, 30n), committed);
  expect(group.sent()).toEqual(['0@10']);
  group.calls[0].resolve();
  await tick();
  expect(group.sent()).toEqual(['0@10', '1@5 0@30']);
  group.calls[1].resolve();
  await tick();
  expect(group.calls.length).toBe(2);
});

test('a failed commit is sent again later, unless a newer offset of its partition came meanwhile', async () => {
  const group = fakeGroup();
  const { events } = mirrorOf(group);
  events.emit('batch:committed', info(0, 10n), committed);
  events.emit('batch:committed', info(1, 5n), committed);
  group.calls[0].resolve();
  await tick();
  events.emit('batch:committed', info(1, 9n), committed);
  group.calls[1].reject(new Error('REBALANCE_IN_PROGRESS'));
  await tick();
  expect(group.calls.length).toBe(2); // not at once: after the backoff
  await new Promise((r) => setTimeout(r, 30));
  expect(group.sent()).toEqual(['0@10', '1@5', '1@9']);
});

test('after a join, the assigned partitions are mirrored where PostgreSQL has them; others are forgotten', async () => {
  const group = fakeGroup();
  const { events } = mirrorOf(
    group,
    new Map([
      [1, 7n],
      [2, 0n],
    ]),
  );
  events.emit('batch:committed', info(0, 10n), committed); // in flight
  events.emit('batch:committed', info(3, 4n), committed); // waiting; partition 3 goes elsewhere
  events.emit('joined', [1, 2]);
  events.emit('batch:committed', info(2, 12n), committed); // committed while the positions are read: newer
  await tick();
  group.calls[0].resolve();
  await tick();
  expect(group.sent()).toEqual(['0@10', '2@12 1@7']);
});

// with an interval, what came while a commit was in flight goes as soon as it is answered, not an interval later
test.each([0, 1000])('flush sends what waits and waits for it (interval %i ms); after clear nothing more is sent', async (intervalMs) => {
  const group = fakeGroup();
  const { events, mirror } = mirrorOf(group, undefined, intervalMs);
  events.emit('batch:committed', info(0, 10n), committed);
  events.emit('batch:committed', info(0, 11n), committed);
  let flushed = false;
  const flushing = mirror.flush(1000).then(() => (flushed = true));
  group.calls[0].resolve();
  await tick();
  expect([group.sent(), flushed]).toEqual([['0@10', '0@11'], false]);
  group.calls[1].resolve();
  await flushing;
  mirror.clear();
  events.emit('batch:committed', info(0, 12n), committed);
  expect(group.calls.length).toBe(2);
});

test('flush gives up at its deadline when the broker does not answer', async () => {
  const group = fakeGroup();
  const { events, mirror } = mirrorOf(group);
  events.emit('batch:committed', info(0, 10n), committed);
  const started = Date.now();
  await mirror.flush(50);
  expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  expect(group.calls.length).toBe(1);
});

describe('with an interval', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  test('a commit starts at most every intervalMs; what committed meanwhile goes together, the latest of each partition', async () => {
    const group = fakeGroup();
    const { events } = mirrorOf(group, undefined, 1000);
    events.emit('batch:committed', info(0, 10n), committed);
    group.calls[0].resolve();
    await tick();
    jest.advanceTimersByTime(100);
    events.emit('batch:committed', info(0, 20n), committed);
    events.emit('batch:committed', info(1, 5n), committed);
    events.emit('batch:committed', info(0, 30n), committed);
    jest.advanceTimersByTime(899);
    expect(group.sent()).toEqual(['0@10']);
    jest.advanceTimersByTime(1);
    expect(group.sent()).toEqual(['0@10', '0@30 1@5']);
  });

  test('flush sends what waits at once; clear drops it', async () => {
    const group = fakeGroup();
    const { events, mirror } = mirrorOf(group, undefined, 1000);
    events.emit('batch:committed', info(0, 10n), committed);
    group.calls[0].resolve();
    await tick();
    events.emit('batch:committed', info(0, 11n), committed);
    const flushing = mirror.flush(5000);
    expect(group.sent()).toEqual(['0@10', '0@11']);
    group.calls[1].resolve();
    await flushing;
    events.emit('batch:committed', info(0, 12n), committed);
    mirror.clear();
    jest.advanceTimersByTime(5000);
    expect(group.sent()).toEqual(['0@10', '0@11']);
  });
});
