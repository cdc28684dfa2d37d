import { PURGE_BATCH, ScoreRequests } from '../../apps/api/score-requests';
import { numbersLiteral, textsLiteral } from '../../libs/db/array-literal';
import { createTestEnv, TestEnv } from './harness';

/**
 * The rows of `score_requests` (one per push or reset) are purged once expired, all of them: a
 * purge that took one batch a minute fell behind any load above PURGE_BATCH pushes a minute.
 */

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv('scorerequests');
});
afterAll(async () => {
  await t?.cleanup();
});

test('a purge deletes every expired row, beyond one batch, and no live one', async () => {
  const expired = PURGE_BATCH * 2 + 123;
  await t.pool.query(
    `INSERT INTO score_requests (key, state, attempt, expires_at)
     SELECT 'r:old-' || i, 'applied', 1, now() - interval '1 minute' FROM generate_series(1, $1::int) AS i`,
    [expired],
  );
  await t.pool.query(
    `INSERT INTO score_requests (key, state, attempt, expires_at)
     SELECT 'r:live-' || i, 'applied', 1, now() + interval '1 hour' FROM generate_series(1, 7) AS i`,
  );
  expect(await new ScoreRequests(t.pool, 3_600_000).purge()).toBe(expired);
  const { rows } = await t.pool.query<{ key: string }>('SELECT key FROM score_requests ORDER BY key');
  expect(rows.map((r) => r.key)).toEqual(Array.from({ length: 7 }, (_, i) => `r:live-${i + 1}`));
});

test("the batch statements' array literals reach PostgreSQL as the values they were (libs/db/array-literal.ts)", async () => {
  const texts = ['plain', '', 'NULL', null, 'a,b {c} (d)', 'say "hi"', 'C:\\dir\\', ' x ', 'ünï ✓', '\\"'];
  const numbers = [0, -1.5, 0.1, 1e-7, 5, null, 1733600000123.5, Number.MIN_VALUE];
  const { rows } = await t.pool.query<{ texts: (string | null)[]; numbers: (number | null)[]; big: string[] }>(
    'SELECT $1::text[] AS texts, $2::float8[] AS numbers, $3::bigint[]::text[] AS big',
    [textsLiteral(texts), numbersLiteral(numbers), numbersLiteral([9007199254740993n, '-9223372036854775808'])],
  );
  expect(rows[0]).toEqual({ texts, numbers, big: ['9007199254740993', '-9223372036854775808'] });
});
