import { fakeApp, fakeContext, FakePostgres, pendingBatch, sqlError } from '../../test/consumer-fakes';
import { StoredOffsetMismatch } from '../db/offsets';
import { plainStrategy } from './plain';

/** FakePostgres with partition 0 stored at `at` (null: no row yet), and the plain strategy over it. */
function setUp(at: bigint | null = 10n) {
  const db = new FakePostgres();
  if (at !== null) db.committed.offsets.set(0, at);
  const { ctx } = fakeContext(db, fakeApp());
  return { db, strategy: plainStrategy(ctx) };
}

test('a batch: BEGIN, its offset by compare-and-set, its effects, COMMIT; no dead letters', async () => {
  const { db, strategy } = setUp();
  await expect(strategy.commit(pendingBatch(0, 10n, ['a', 'b', 'c']), 0)).resolves.toEqual([]);
  expect(db.trips).toEqual(['BEGIN', 'advance 0:10→13', 'apply a,b,c', 'COMMIT']);
  expect(db.stored()).toEqual({ 0: '13' });
  expect(db.committed.rows).toEqual(['a', 'b', 'c']);
  expect(db.checkedOut).toBe(0);
});

test("a partition's first batch, at its log start, inserts the partition's row", async () => {
  const { db, strategy } = setUp(null);
  await strategy.commit(pendingBatch(0, 0n, ['a', 'b']), 0);
  expect(db.trips).toEqual(['BEGIN', 'advance 0:0→2', 'read 0', 'insert 0:2', 'apply a,b', 'COMMIT']);
  expect(db.stored()).toEqual({ 0: '2' });
});

test('a batch that does not start where its partition is stored is fenced: rolled back, nothing applied', async () => {
  const { db, strategy } = setUp(20n);
  const err: unknown = await strategy.commit(pendingBatch(0, 10n, ['a']), 0).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StoredOffsetMismatch);
  expect((err as StoredOffsetMismatch).stored).toBe(20n);
  expect(db.trips).toEqual(['BEGIN', 'advance 0:10→11', 'read 0', 'ROLLBACK']);
  expect(db.stored()).toEqual({ 0: '20' });
  expect(db.committed.rows).toEqual([]);
});

test.each([
  ['22001', 'a string too long'],
  ['23505', 'a unique violation'],
  ['54000', 'an index row too large'],
])('SQLSTATE %s (%s): the batch again item by item, the refused one dead-lettered outside any transaction, the rest as one', async (code) => {
  const { db, strategy } = setUp();
  db.refused.set('bad', code);
  const dead = await strategy.commit(pendingBatch(0, 10n, ['a', 'bad', 'c']), 0);
  expect(dead).toEqual([{ offset: 11n, reason: `rejected by PostgreSQL: refused bad` }]);
  expect(db.trips).toEqual([
    ...['BEGIN', 'advance 0:10→13', 'apply a,bad,c', 'ROLLBACK'],
    ...['BEGIN', 'advance 0:10→13'],
    ...['SAVEPOINT', 'apply a', 'RELEASE'],
    ...['SAVEPOINT', 'apply bad', 'ROLLBACK TO'],
    ...['SAVEPOINT', 'apply c', 'RELEASE'],
    'ROLLBACK',
    ...['stored offsets', 'send t.dlq 11'],
    ...['BEGIN', 'advance 0:10→13', 'apply a,c', 'count dead letters +1', 'dead-lettered 11', 'COMMIT'],
  ]);
  expect(db.stored()).toEqual({ 0: '13' });
  expect(db.committed).toMatchObject({ rows: ['a', 'c'], deadLetters: 1 });
});

test('the item-by-item pass is linear: one apply per message, one pass', async () => {
  const { db, strategy } = setUp();
  const values = Array.from({ length: 50 }, (_, i) => `v${i}`);
  db.refused.set('v7', '23505');
  db.refused.set('v30', '23514');
  await strategy.commit(pendingBatch(0, 10n, values), 0);
  const applies = db.trips.filter((t) => t.startsWith('apply'));
  expect(applies.length).toBe(1 + 50 + 1); // the batch, each message once, the rest
  expect(db.trips.filter((t) => t.startsWith('send'))).toEqual(['send t.dlq 17,40']);
  expect(db.committed.rows).toEqual(values.filter((v) => v !== 'v7' && v !== 'v30'));
});

test('a refusal only the whole batch meets: the item-by-item pass is committed, nothing dead-lettered', async () => {
  const { db, strategy } = setUp();
  db.refuseSetsOfMany = true;
  await expect(strategy.commit(pendingBatch(0, 10n, ['a', 'b']), 0)).resolves.toEqual([]);
  expect(db.trips).toEqual([
    ...['BEGIN', 'advance 0:10→12', 'apply a,b', 'ROLLBACK'],
    ...['BEGIN', 'advance 0:10→12', 'SAVEPOINT', 'apply a', 'RELEASE', 'SAVEPOINT', 'apply b', 'RELEASE', 'COMMIT'],
  ]);
  expect(db.committed.rows).toEqual(['a', 'b']);
});

test.each([
  ['40001', 'a serialization failure'],
  ['42P01', 'a missing table'],
])('SQLSTATE %s (%s) is no refusal: thrown, nothing dead-lettered, nothing committed', async (code) => {
  const { db, strategy } = setUp();
  db.refused.set('bad', code);
  await expect(strategy.commit(pendingBatch(0, 10n, ['a', 'bad']), 0)).rejects.toMatchObject({ code });
  expect(db.trips).toEqual(['BEGIN', 'advance 0:10→12', 'apply a,bad', 'ROLLBACK']);
  expect(db.stored()).toEqual({ 0: '10' });
});

test('undecodable messages are sent before the transaction that skips them, and counted in it', async () => {
  const { db, strategy } = setUp();
  const dead = await strategy.commit(pendingBatch(0, 10n, ['a', '!x', 'c']), 0);
  expect(dead).toEqual([{ offset: 11n, reason: 'cannot decode !x' }]);
  expect(db.trips).toEqual(['stored offsets', 'send t.dlq 11', 'BEGIN', 'advance 0:10→13', 'apply a,c', 'count dead letters +1', 'dead-lettered 11', 'COMMIT']);
});

test('a batch with undecodable messages that is going to be fenced sends nothing', async () => {
  const { db, strategy } = setUp(20n);
  await expect(strategy.commit(pendingBatch(0, 10n, ['a', '!x']), 0)).rejects.toBeInstanceOf(StoredOffsetMismatch);
  expect(db.trips).toEqual(['stored offsets']);
});

test('a commit lost to an outage is thrown; the next attempt sends no dead letter again and commits', async () => {
  const { db, strategy } = setUp();
  db.failNext('COMMIT', sqlError('57P01', 'terminating connection due to administrator command'));
  const batch = pendingBatch(0, 10n, ['a', '!x']);
  await expect(strategy.commit(batch, 0)).rejects.toMatchObject({ code: '57P01' });
  expect(db.stored()).toEqual({ 0: '10' });
  expect(db.checkedOut).toBe(0);
  await expect(strategy.commit(batch, 1)).resolves.toEqual([{ offset: 11n, reason: 'cannot decode !x' }]);
  expect(db.trips.filter((t) => t.startsWith('send'))).toEqual(['send t.dlq 11']);
  expect(db.trips.slice(-6)).toEqual(['BEGIN', 'advance 0:10→12', 'apply a', 'count dead letters +1', 'dead-lettered 11', 'COMMIT']);
  expect(db.committed).toMatchObject({ rows: ['a'], deadLetters: 1 });
  expect(db.stored()).toEqual({ 0: '12' });
});
