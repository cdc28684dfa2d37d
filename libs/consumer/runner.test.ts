import { fakeApp, fakeContext, FakePostgres, messages, sqlError } from '../../test/consumer-fakes';
import { StoppedError } from '../errors';
import { EachBatchPayload } from '../kafka/port';
import { ABANDONED, CommitStrategy } from './commit-strategy';
import { plainStrategy } from './plain';
import { batchHandler } from './runner';
import { Runs } from './runs';
import { BatchApp, BatchInfo, DeadLetter, PartitionProgress } from './types';

/** The client's side: one batch of partition 0 from offset 10, what the runner resolved, whether it is still live. */
function fakeSource(values: string[], state = { running: true, stale: false }) {
  const resolved: bigint[] = [];
  const payload: EachBatchPayload = {
    batch: { topic: 't', partition: 0, messages: messages(10n, values), lastOffset: 9n + BigInt(values.length), highWatermark: 20n },
    resolveOffset: (offset) => void resolved.push(offset),
    heartbeat: async () => undefined,
    isRunning: () => state.running,
    isStale: () => state.stale,
  };
  return { payload, resolved, state };
}

/** A consumer's runner over FakePostgres (partition 0 stored at 10), its app told of every commit. */
function setUp(options: { afterCommit?: BatchApp<string>['afterCommit']; strategy?: CommitStrategy<string> } = {}) {
  const db = new FakePostgres();
  db.committed.offsets.set(0, 10n);
  const told: { items: string[]; info: BatchInfo; dead: DeadLetter[]; trips: number }[] = [];
  const app: BatchApp<string> = {
    ...fakeApp(),
    afterCommit: options.afterCommit ?? ((items, info, dead) => void told.push({ items, info, dead, trips: db.trips.length })),
  };
  const { ctx, logged, stop } = fakeContext(db, app);
  const sought: [number, bigint | null][] = [];
  const progress = new Map<number, PartitionProgress>();
  const eachBatch = batchHandler(ctx, {
    strategy: options.strategy ?? plainStrategy(ctx),
    seek: async (partition, stored) => void sought.push([partition, stored]),
    progress,
    runs: new Runs(),
  });
  const committed: unknown[] = [];
  ctx.events.on('batch:committed', (info, detail) => committed.push({ nextOffset: info.nextOffset, records: detail.records, deadLetters: detail.deadLetters }));
  return { db, eachBatch, told, logged, sought, progress, committed, stop };
}

test('a committed batch: its offset resolved, its progress, its event, then the app told with its dead letters', async () => {
  const { db, eachBatch, told, progress, committed } = setUp();
  const source = fakeSource(['a', '!x', 'b']);
  await eachBatch(source.payload);
  expect(db.stored()).toEqual({ 0: '13' });
  expect(source.resolved).toEqual([12n]);
  expect(progress.get(0)).toEqual({ topic: 't', partition: 0, offset: 13n, highWatermark: 20n, lag: 7n });
  expect(committed).toEqual([{ nextOffset: 13n, records: 2, deadLetters: 1 }]);
  expect(told).toEqual([
    {
      items: ['a', 'b'],
      info: { topic: 't', partition: 0, firstOffset: 10n, nextOffset: 13n, highWatermark: 20n },
      dead: [{ offset: 11n, reason: 'cannot decode !x' }],
      trips: db.trips.length, // after the last round trip: the COMMIT
    },
  ]);
  expect(db.trips[db.trips.length - 1]).toBe('COMMIT');
});

test('an afterCommit that throws is logged; the batch stays committed, once, and its offset is resolved', async () => {
  const { db, eachBatch, logged, progress } = setUp({
    afterCommit: () => {
      throw new Error('hook defect');
    },
  });
  const source = fakeSource(['a']);
  await expect(eachBatch(source.payload)).resolves.toBeUndefined();
  expect(db.trips).toEqual(['BEGIN', 'advance 0:10→11', 'apply a', 'COMMIT']);
  expect(source.resolved).toEqual([10n]);
  expect(progress.get(0)?.offset).toBe(11n);
  expect(logged.filter((l) => l.startsWith('ERROR'))).toEqual(['ERROR test: after committing t[0]@10: hook defect']);
});

test('a retriable error (PostgreSQL going down at COMMIT): said once, retried with backoff, committed once', async () => {
  const { db, eachBatch, logged, told } = setUp();
  db.failNext('COMMIT', sqlError('57P01', 'terminating connection'));
  const source = fakeSource(['a', 'b']);
  await eachBatch(source.payload);
  expect(db.trips).toEqual([...['BEGIN', 'advance 0:10→12', 'apply a,b', 'COMMIT', 'ROLLBACK'], ...['BEGIN', 'advance 0:10→12', 'apply a,b', 'COMMIT']]);
  expect(db.stored()).toEqual({ 0: '12' });
  expect(db.committed.rows).toEqual(['a', 'b']);
  expect(source.resolved).toEqual([11n]);
  expect(told.length).toBe(1);
  expect(logged).toEqual([
    'WARN test: PostgreSQL unavailable (terminating connection); retrying with backoff',
    'WARN test: PostgreSQL reachable again; resuming',
  ]);
  expect(db.checkedOut).toBe(0);
});

test('a fenced batch: not resolved, nothing committed, the partition sought where PostgreSQL has it', async () => {
  const { db, eachBatch, sought, told } = setUp();
  db.committed.offsets.set(0, 30n);
  const source = fakeSource(['a']);
  await eachBatch(source.payload);
  expect(sought).toEqual([[0, 30n]]);
  expect(source.resolved).toEqual([]);
  expect(db.committed.rows).toEqual([]);
  expect(told).toEqual([]);
});

test('a batch fetched before a seek (stale) is abandoned before any transaction', async () => {
  const { db, eachBatch } = setUp();
  const source = fakeSource(['a'], { running: true, stale: true });
  await eachBatch(source.payload);
  expect(db.trips).toEqual([]);
  expect(source.resolved).toEqual([]);
});

test("a strategy's ABANDONED: nothing resolved, no event, the app not told", async () => {
  const abandon: CommitStrategy<string> = { commit: async () => ABANDONED };
  const { eachBatch, committed, told } = setUp({ strategy: abandon });
  const source = fakeSource(['a']);
  await eachBatch(source.payload);
  expect([source.resolved, committed, told]).toEqual([[], [], []]);
});

test('a batch handed over after stop() ends its client runner', async () => {
  const { db, eachBatch, stop } = setUp();
  stop();
  await expect(eachBatch(fakeSource(['a']).payload)).rejects.toBeInstanceOf(StoppedError);
  expect(db.trips).toEqual([]);
});
