import { createPool, Pool } from '../../libs/db';
import { classify } from '../../libs/errors/classify';
import { createTestEnv, TestEnv } from './harness';

/**
 * Every dasy pool bounds idle transactions (DESIGN.md §6): createPool gives each session
 * DASY_PG_IDLE_IN_TRANSACTION_MS as its idle_in_transaction_session_timeout, so a client stuck
 * inside a transaction is ended by PostgreSQL (its transaction rolled back, VACUUM no longer held
 * back), and what the client sees then is an outage of PostgreSQL, retried like any other.
 */

let t: TestEnv;
const pools: Pool[] = [];

beforeAll(async () => {
  t = await createTestEnv('poolidle');
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await t?.cleanup();
});

function pool(idleInTransactionMs: number): Pool {
  const p = createPool({ databaseUrl: t.databaseUrl, namespace: t.namespace, max: 2, applicationName: 'dasy-test-idle', idleInTransactionMs });
  pools.push(p);
  return p;
}

async function setting(p: Pool): Promise<string> {
  const { rows } = await p.query<{ v: string }>("SELECT current_setting('idle_in_transaction_session_timeout') AS v");
  return rows[0].v;
}

test('each session has the setting: a client idle in its transaction longer is ended, and sees an outage it retries', async () => {
  const p = pool(1000);
  expect(await setting(p)).toBe('1s');
  const client = await p.connect();
  await client.query('BEGIN');
  await client.query('CREATE TEMP TABLE stuck (x int)');
  await new Promise((r) => setTimeout(r, 2500));
  const err = await client.query('SELECT 1').then(
    () => undefined,
    (e: unknown) => e,
  );
  client.release(true);
  expect(err).toBeDefined();
  expect(classify(err)).toBe('postgresql-unavailable');
  // the pool goes on with a fresh session
  expect((await p.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
});

test('0 leaves the server its own setting', async () => {
  const { rows } = await t.pool.query<{ v: string }>("SELECT current_setting('idle_in_transaction_session_timeout') AS v");
  expect(await setting(pool(0))).toBe(rows[0].v);
});

test('the default is a minute', async () => {
  expect(await setting(pool(t.config.pgIdleInTransactionMs))).toBe('1min');
});
