import * as path from 'path';
import { Pool } from 'pg';
import { createPool, withSchema, withTransaction } from '../../libs/db';
import { flushWal } from '../../libs/db/wal';
import { call, startApi } from './api-client';
import { diffTables, exact, expectedFromFiles } from './faults-kit';
import { createTestEnv, runCli, TestEnv, waitFor } from './harness';
import { createPrivatePostgres, PrivatePostgres, privatePostgresAvailable } from './private-postgres';

/**
 * An answer of done survives a PostgreSQL crash right after it (DESIGN.md §6): an ingest that
 * exited 0, a push answered 200, then the server killed (`pg_ctl stop -m immediate`) before
 * anything else runs, and started again: the tables hold them, with no part running to replay
 * anything from Kafka. The crash happens on a private cluster (initdb into a temporary folder,
 * port DASY_TEST_PG_PORT), never the machine's server, whose WAL writer is as slow as it may be
 * (SLOW_WAL_WRITER): what was committed without waiting for the flush is still unflushed at the
 * crash, and only an answer that waited for the flush holds.
 */

const PG_PORT = Number(process.env.DASY_TEST_PG_PORT ?? 19540);
/**
 * What was committed without waiting for the flush stays unflushed for as long as the server may
 * keep it so: the WAL writer flushes every 10 s (the longest) and not after a volume of WAL, and
 * no autovacuum commits (its commits wait for the flush, and would flush everyone's before them).
 */
const SLOW_WAL_WRITER = { wal_writer_delay: '10s', wal_writer_flush_after: '1GB', autovacuum: 'off' };
const maybe = privatePostgresAvailable ? describe : describe.skip;

maybe('answers of done, then a PostgreSQL crash', () => {
  let cluster: PrivatePostgres;
  let t: TestEnv;
  const savedUrl = process.env.DATABASE_URL;

  beforeAll(async () => {
    cluster = await createPrivatePostgres(PG_PORT, SLOW_WAL_WRITER);
    process.env.DATABASE_URL = cluster.url('dasy'); // the test's world lives on this cluster
    t = await createTestEnv('durable');
  }, 120000);
  afterAll(async () => {
    await t?.cleanup().catch(() => undefined);
    if (savedUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = savedUrl;
    await cluster?.destroy();
  });

  /** Crash the server and start it again; a fresh pool on it once it answers. */
  async function crashAndRestart(): Promise<Pool> {
    await cluster.crash();
    await cluster.start();
    const pool = new Pool({ connectionString: withSchema(t.databaseUrl, t.namespace), max: 2 });
    pool.on('error', () => undefined);
    await waitFor('PostgreSQL after recovery', async () => (await pool.query('SELECT 1')).rowCount === 1, 60000, 200);
    return pool;
  }

  test('flushWal: a commit that did not wait for the flush survives a crash once flushWal returned', async () => {
    const pool = createPool({ databaseUrl: t.databaseUrl, namespace: t.namespace, max: 1, idleInTransactionMs: 60000 });
    try {
      await pool.query('CREATE TABLE durable_probe (id int PRIMARY KEY)');
      const behind = async (lsn: string) =>
        (await pool.query<{ behind: boolean }>('SELECT pg_current_wal_flush_lsn() < $1::pg_lsn AS behind', [lsn])).rows[0].behind;
      // committed as the pipeline's consumers commit: without waiting for the flush
      await withTransaction(pool, (client) => client.query('INSERT INTO durable_probe VALUES (1)'), { asyncCommit: true });
      const committed = (await pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn;
      expect(await behind(committed)).toBe(true); // not on disk yet
      await flushWal(pool);
      expect(await behind(committed)).toBe(false);
    } finally {
      await pool.end();
    }
    const after = await crashAndRestart();
    try {
      expect((await after.query<{ id: number }>('SELECT id FROM durable_probe')).rows).toEqual([{ id: 1 }]);
    } finally {
      await after.end();
    }
  }, 120000);

  test('an ingest that exited 0: its products and counts are there after a crash right after', async () => {
    const file = path.join(t.tmp, 'durable.csv');
    expect((await runCli(t, ['data', '--rows', '20000', '--seed', '47', '--out', file])).code).toBe(0);
    const expected = expectedFromFiles(file);
    const ingest = await runCli(t, ['ingest', '--file', file, '--rejects', path.join(t.tmp, 'rejects.csv')]);
    expect({ code: ingest.code, tail: ingest.stderr.split('\n').slice(-5) }).toMatchObject({ code: 0 });
    const pool = await crashAndRestart();
    try {
      expect(await diffTables(pool, expected)).toEqual(exact(expected));
    } finally {
      await pool.end();
    }
  }, 240000);

  test('pushes answered 200: their statistics and audit rows are there after a crash right after', async () => {
    const api = await startApi(t);
    const answered = new Map<string, number>(); // each name's count in its last answer
    const pushes = 12;
    for (let i = 0; i < pushes; i++) {
      const name = `durable-${i % 3}`;
      const reply = await call<{ count: number }>('POST', `${api.url}/api/push`, { json: { name, score: (i % 5) + 0.5 } });
      expect(reply.status).toBe(200);
      answered.set(name, reply.body.count);
    }
    // the crash right after the last answer; the api killed too, so nothing replays what was lost
    const pool = await (async () => {
      const crashed = crashAndRestart();
      api.cli.child.kill('SIGKILL');
      return crashed;
    })();
    try {
      const { rows } = await pool.query<{ name: string; count: string }>('SELECT name, count FROM score_stats ORDER BY name');
      expect(rows.map((r) => [r.name, Number(r.count)])).toEqual([...answered.entries()].sort());
      expect((await pool.query<{ n: string }>('SELECT count(*) AS n FROM score_pushes')).rows[0].n).toBe(String(pushes));
    } finally {
      await pool.end();
    }
  }, 240000);
});
