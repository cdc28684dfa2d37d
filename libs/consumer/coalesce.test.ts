import { fakeApp, fakeContext, FakePostgres, pendingBatch } from '../../test/consumer-fakes';
import { StoredOffsetMismatch } from '../db/offsets';
import { ABANDONED } from './commit-strategy';
import { createCommitStrategy } from './strategies';

/** FakePostgres with partition 0 at 10 and partition 1 at 5, and the coalesce strategy (fold-begin alone) over it. */
function setUp(options: { applyMany?: boolean } = {}) {
  const db = new FakePostgres();
  db.committed.offsets.set(0, 10n);
  db.committed.offsets.set(1, 5n);
  const { ctx } = fakeContext(db, fakeApp(options));
  return { db, strategy: createCommitStrategy('coalesce', ctx) };
}

test("batches of several partitions offered in one turn: one transaction, every offset in BEGIN's round trip, in partition order", async () => {
  const { db, strategy } = setUp();
  const results = await Promise.all([strategy.commit(pendingBatch(1, 5n, ['c']), 0), strategy.commit(pendingBatch(0, 10n, ['a', 'b']), 0)]);
  expect(results).toEqual([[], []]);
  expect(db.trips).toEqual(['BEGIN; advance 0:10→12 1:5→6', 'apply a,b', 'apply c', 'COMMIT']);
  expect(db.stored()).toEqual({ 0: '12', 1: '6' });
  expect(db.checkedOut).toBe(0);
});

test("with the app's applyMany, the batches are applied in one statement", async () => {
  const { db, strategy } = setUp({ applyMany: true });
  await Promise.all([strategy.commit(pendingBatch(0, 10n, ['a', 'b']), 0), strategy.commit(pendingBatch(1, 5n, ['c']), 0)]);
  expect(db.trips).toEqual(['BEGIN; advance 0:10→12 1:5→6', 'apply many a,b,c', 'COMMIT']);
});

test('a batch alone in its turn is committed alone, folded', async () => {
  const { db, strategy } = setUp();
  await expect(strategy.commit(pendingBatch(0, 10n, ['a']), 0)).resolves.toEqual([]);
  expect(db.trips).toEqual(['BEGIN; advance 0:10→11', 'apply a', 'COMMIT']);
});

test('a range that does not match rolls the whole back; each batch then takes the single-batch path (one commits, one is fenced)', async () => {
  const { db, strategy } = setUp();
  db.committed.offsets.set(1, 9n);
  const [zero, one] = await Promise.allSettled([strategy.commit(pendingBatch(0, 10n, ['a']), 0), strategy.commit(pendingBatch(1, 5n, ['c']), 0)]);
  expect(zero).toEqual({ status: 'fulfilled', value: [] });
  expect(one.status === 'rejected' && (one.reason as StoredOffsetMismatch).stored).toBe(9n);
  expect(db.trips.slice(0, 2)).toEqual(['BEGIN; advance 0:10→11 1:5→6', 'ROLLBACK']);
  expect(db.trips.filter((t) => t.startsWith('BEGIN')).sort()).toEqual(['BEGIN; advance 0:10→11', 'BEGIN; advance 0:10→11 1:5→6', 'BEGIN; advance 1:5→6']);
  expect(db.stored()).toEqual({ 0: '11', 1: '9' });
  expect(db.committed.rows).toEqual(['a']);
});

test('a refusal (SQLSTATE 23) rolls the whole back; alone, the refused message is dead-lettered and the rest committed', async () => {
  const { db, strategy } = setUp();
  db.refused.set('bad', '23505');
  const results = await Promise.all([strategy.commit(pendingBatch(0, 10n, ['a']), 0), strategy.commit(pendingBatch(1, 5n, ['bad', 'c']), 0)]);
  expect(results).toEqual([[], [{ offset: 5n, reason: 'rejected by PostgreSQL: refused bad' }]]);
  expect(db.trips.slice(0, 4)).toEqual(['BEGIN; advance 0:10→11 1:5→7', 'apply a', 'apply bad,c', 'ROLLBACK']);
  expect(db.trips.filter((t) => t.startsWith('send'))).toEqual(['send t.dlq 5']);
  expect(db.stored()).toEqual({ 0: '11', 1: '7' });
  expect([...db.committed.rows].sort()).toEqual(['a', 'c']);
  expect(db.committed.deadLetters).toBe(1);
});

test('a batch with undecodable messages is not offered: its dead letters go first, alone', async () => {
  const { db, strategy } = setUp();
  const results = await Promise.all([strategy.commit(pendingBatch(0, 10n, ['a', '!x']), 0), strategy.commit(pendingBatch(1, 5n, ['c']), 0)]);
  expect(results).toEqual([[{ offset: 11n, reason: 'cannot decode !x' }], []]);
  expect(db.trips.some((t) => t.includes('0:10→12 1:5→6'))).toBe(false);
  expect(db.trips.filter((t) => t.startsWith('BEGIN')).sort()).toEqual(['BEGIN; advance 0:10→12', 'BEGIN; advance 1:5→6']);
  expect(db.stored()).toEqual({ 0: '12', 1: '6' });
});

test('a retry (attempt after the first) is never offered', async () => {
  const { db, strategy } = setUp();
  await Promise.all([strategy.commit(pendingBatch(0, 10n, ['a']), 1), strategy.commit(pendingBatch(1, 5n, ['c']), 1)]);
  expect(db.trips.filter((t) => t.startsWith('BEGIN')).sort()).toEqual(['BEGIN; advance 0:10→11', 'BEGIN; advance 1:5→6']);
});

test('a batch that stopped being live while it waited is abandoned: nothing sent, nothing committed', async () => {
  const { db, strategy } = setUp();
  let live = true;
  const result = strategy.commit(
    pendingBatch(0, 10n, ['a'], () => live),
    0,
  );
  live = false;
  await expect(result).resolves.toBe(ABANDONED);
  expect(db.trips).toEqual([]);
});
