import { QueryRunner } from 'typeorm';
import { ExactScores1732300003000 } from '../../migrations/1732300003000-ExactScores';
import { windowStats } from '../../apps/api/store';
import { createTestEnv, rows, TestEnv } from './harness';

/**
 * The migration to exact score statistics keeps what float8 rows held: their sums are n·mean and
 * m2 + n·mean², exactly from those doubles, and the statistics read back as they were.
 */
let t: TestEnv;
let q: QueryRunner;

beforeAll(async () => {
  t = await createTestEnv('exactmig');
  q = { query: async (sql: string, params?: unknown[]) => (await t.pool.query(sql, params)).rows } as unknown as QueryRunner;
});

afterAll(async () => {
  await t?.cleanup();
});

test('float8 rows become exact sums; reverting gives float8 statistics back', async () => {
  const migration = new ExactScores1732300003000();
  await migration.down(q);
  await t.pool.query(`INSERT INTO score_stats (name, session, count, mean, m2, min, max, first_at, last_at, started_at)
                      VALUES ('Old', 1, 4, 2.5, 5, 1, 4, now(), now(), now()), ('Empty', 2, 0, 0, 0, NULL, NULL, NULL, NULL, now())`);
  await t.pool.query(`INSERT INTO score_buckets (name, minute, count, mean, m2, min, max, first_at, last_at)
                      VALUES ('Old', '2024-05-01T12:00:00Z', 4, 2.5, 5, 1, 4, '2024-05-01T12:00:01Z', '2024-05-01T12:00:59Z')`);
  await migration.up(q);
  expect(await rows(t.pool, `SELECT name, count, sum::text AS sum, sum_sq::text AS sum_sq FROM score_stats ORDER BY name`)).toEqual([
    { name: 'Empty', count: '0', sum: '0', sum_sq: '0' },
    { name: 'Old', count: '4', sum: '10', sum_sq: '30' }, // 1, 2, 3, 4: Σx = 10, Σx² = 30
  ]);
  const w = await windowStats(t.pool, 'Old', { from: new Date('2024-05-01T00:00:00Z'), to: new Date('2024-05-02T00:00:00Z') });
  expect([w.count, w.mean, w.stddev, w.min, w.max]).toEqual([4, 2.5, Math.sqrt(1.25), 1, 4]);
  expect(
    (await rows(t.pool, `SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'score_stats' AND column_name IN ('mean', 'm2')`)).length,
  ).toBe(0);

  await migration.down(q);
  expect(await rows(t.pool, `SELECT name, count, mean, m2 FROM score_stats ORDER BY name`)).toEqual([
    { name: 'Empty', count: '0', mean: 0, m2: 0 },
    { name: 'Old', count: '4', mean: 2.5, m2: 5 },
  ]);
  await migration.up(q);
});
