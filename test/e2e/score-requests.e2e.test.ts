import { PURGE_BATCH, ScoreRequests } from '../../apps/api/score-requests';
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
