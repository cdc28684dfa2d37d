import { loadDevConfig } from '../../libs/config';
import * as fs from 'fs';
import * as path from 'path';
import { Pool } from 'pg';
import { withSchema } from '../../libs/db';
import { GROUPS } from '../../apps/components';
import { storedOffsets } from '../../libs/db/offsets';
import { groupId, topicName } from '../../libs/kafka/topics';
import { call, startApi } from './api-client';
import { diffTables, exact, expectedFromFiles, kafkaOf, messagesIn } from './faults-kit';
import { createTestEnv, runCli, startCli, TestEnv, waitFor } from './harness';
import { createPrivatePostgres, PrivatePostgres, privatePostgresAvailable } from './private-postgres';

/**
 * An answer of done survives a PostgreSQL crash right after it (DESIGN.md §6): an ingest that
 * exited 0, a push answered 200, then the server killed (`pg_ctl stop -m immediate`) before
 * anything else runs, and started again: the tables hold them, with no part running to replay
 * anything from Kafka. And a crash mid-ingest loses no commit of a part, so the ingest ends, exact. The crash happens on a private cluster (initdb into a temporary folder,
 * port DASY_TEST_PG_PORT), never the machine's server, whose WAL writer is as slow as it may be
 * (SLOW_WAL_WRITER): what was committed without waiting for the flush is still unflushed at the
 * crash, and only an answer that waited for the flush holds.
 */

const PG_PORT = loadDevConfig().testPgPort;
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

  test('a crash mid-ingest, as the recounts catch up: the ingest still ends, exact', async () => {
    // The crash comes right after the product-count consumer committed its last recounts: a commit
    // the crash undid would be fetched again by nothing (no new message comes to its partition),
    // so the ingest would wait for it for ever. No commit of a consumer may be lost.
    const rowsInFile = 30000;
    const file = path.join(t.tmp, 'mid-ingest.csv');
    expect((await runCli(t, ['data', '--rows', String(rowsInFile), '--seed', '48', '--out', file])).code).toBe(0);
    // the tables hold the ingest of the test before this one too, when it ran
    const earlier = path.join(t.tmp, 'durable.csv');
    const expected = expectedFromFiles(...(fs.existsSync(earlier) ? [earlier] : []), file);
    const admin = kafkaOf(t).admin();
    await admin.connect();
    // the file's records come after what the topic holds already (the tests before this one)
    const productsTopic = topicName(t.namespace, 'products');
    const before = await messagesIn(admin, productsTopic);
    const recountsBefore = await messagesIn(admin, topicName(t.namespace, 'productCount'));
    const ingest = startCli(t, ['ingest', '--file', file, '--rejects', path.join(t.tmp, 'mid-rejects.csv')]);
    const applied = async (app: string, topic: 'products' | 'productCount') =>
      [...(await storedOffsets(t.pool, groupId(t.namespace, app), topicName(t.namespace, topic))).values()].reduce((a, b) => a + b, 0n);
    /** the group applied every message of the topic, and at least `least` of them */
    const caughtUpWith = async (app: string, topic: 'products' | 'productCount', least: number) => {
      const sent = await messagesIn(admin, topicName(t.namespace, topic));
      return sent >= least && (await applied(app, topic)) === BigInt(sent);
    };
    try {
      await waitFor('every product applied', () => caughtUpWith(GROUPS.products, 'products', before + rowsInFile), 180000, 20);
      await waitFor('every recount applied', () => caughtUpWith(GROUPS.productCount, 'productCount', recountsBefore + 1), 180000, 5);
    } finally {
      await admin.disconnect();
    }
    const pool = await crashAndRestart();
    try {
      const ended = await Promise.race([ingest.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 120000))]);
      if (ended === 'still running') ingest.child.kill('SIGKILL');
      expect({ ended, tail: ingest.stderr().split('\n').slice(-5) }).toEqual({ ended: { code: 0, signal: null }, tail: expect.anything() });
      expect(await diffTables(pool, expected)).toEqual(exact(expected));
    } finally {
      await pool.end();
    }
  }, 420000);

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
