import { fakeApp, fakeContext, FakePostgres, pendingBatch, sqlError } from '../../test/consumer-fakes';
import { StoredOffsetMismatch } from '../db/offsets';
import { foldBeginStrategy } from './fold-begin';

/** FakePostgres with partition 0 stored at `at` (null: no row yet), and the fold-begin strategy over it. */
function setUp(at: bigint | null = 10n) {
  const db = new FakePostgres();
  if (at !== null) db.committed.offsets.set(0, at);
  const { ctx } = fakeContext(db, fakeApp());
  return { db, strategy: foldBeginStrategy(ctx) };
}

test("a batch: BEGIN and its offset's compare-and-set in one round trip, its effects, COMMIT", async () => {
  const { db, strategy } = setUp();
  await expect(strategy.commit(pendingBatch(0, 10n, ['a', 'b', 'c']), 0)).resolves.toEqual([]);
  expect(db.trips).toEqual(['BEGIN; advance 0:10→13', 'apply a,b,c', 'COMMIT']);
  expect(db.stored()).toEqual({ 0: '13' });
  expect(db.committed.rows).toEqual(['a', 'b', 'c']);
  expect(db.checkedOut).toBe(0);
});

test("a partition's first batch: the folded statement moves nothing, advanceOffset inserts the row", async () => {
  const { db, strategy } = setUp(null);
  await strategy.commit(pendingBatch(0, 0n, ['a']), 0);
  expect(db.trips).toEqual(['BEGIN; advance 0:0→1', 'advance 0:0→1', 'read 0', 'insert 0:1', 'apply a', 'COMMIT']);
  expect(db.stored()).toEqual({ 0: '1' });
});

test('the same fence: a batch not at the stored offset is rolled back with where the partition stands', async () => {
  const { db, strategy } = setUp(20n);
  const err: unknown = await strategy.commit(pendingBatch(0, 10n, ['a']), 0).catch((e: unknown) => e);
  expect((err as StoredOffsetMismatch).stored).toBe(20n);
  expect(db.trips).toEqual(['BEGIN; advance 0:10→11', 'advance 0:10→11', 'read 0', 'ROLLBACK']);
  expect(db.committed.rows).toEqual([]);
});

test('a refusal (SQLSTATE 23): item by item with the fold too, the refused one dead-lettered between transactions', async () => {
  const { db, strategy } = setUp();
  db.refused.set('bad', '23502');
  const dead = await strategy.commit(pendingBatch(0, 10n, ['bad', 'b']), 0);
  expect(dead).toEqual([{ offset: 10n, reason: 'rejected by PostgreSQL: refused bad' }]);
  expect(db.trips).toEqual([
    ...['BEGIN; advance 0:10→12', 'apply bad,b', 'ROLLBACK'],
    ...['BEGIN; advance 0:10→12', 'SAVEPOINT', 'apply bad', 'ROLLBACK TO', 'SAVEPOINT', 'apply b', 'RELEASE', 'ROLLBACK'],
    ...['stored offsets', 'send t.dlq 10'],
    ...['BEGIN; advance 0:10→12', 'apply b', 'count dead letters +1', 'dead-lettered 10', 'COMMIT'],
  ]);
  expect(db.committed).toMatchObject({ rows: ['b'], deadLetters: 1 });
  expect(db.stored()).toEqual({ 0: '12' });
});

test('an outage during the apply is thrown, nothing committed; the next attempt commits', async () => {
  const { db, strategy } = setUp();
  db.failNext('apply', sqlError('57P01'));
  const batch = pendingBatch(0, 10n, ['a']);
  await expect(strategy.commit(batch, 0)).rejects.toMatchObject({ code: '57P01' });
  expect(db.stored()).toEqual({ 0: '10' });
  await strategy.commit(batch, 1);
  expect(db.trips).toEqual(['BEGIN; advance 0:10→11', 'apply a', 'ROLLBACK', 'BEGIN; advance 0:10→11', 'apply a', 'COMMIT']);
  expect(db.stored()).toEqual({ 0: '11' });
  expect(db.checkedOut).toBe(0);
});
