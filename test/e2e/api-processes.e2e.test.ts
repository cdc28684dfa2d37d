import { createKafka } from '../../libs/kafka/client';
import { topicName } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';
import { RunningCli } from './harness';
import { ApiProcess, call, expectStats, scores, startApi, startConsumer } from './api-client';
import { revertMigrations, runMigrations } from '../../libs/db/migrate';
import { appliedAll } from './faults-kit';
import { createTestEnv, rows, TestEnv, waitFor } from './harness';

/**
 * Read-your-writes across processes: two `dasy api --no-consumers` processes answer pushes that a
 * separate `dasy scores-consumer` process applies (the api processes learn of it by LISTEN/NOTIFY).
 * Audit is off here (DASY_AUDIT=off) and there is no ad upstream (the built-in VAST sample).
 */
let t: TestEnv;
let a: ApiProcess;
let b: ApiProcess;
let consumer: RunningCli | undefined;
const env = { DASY_AUDIT: 'off' };

const push = (api: ApiProcess, name: string, score: number) => call('POST', `${api.url}/api/push`, { json: { name, score } });

beforeAll(async () => {
  t = await createTestEnv('apiproc');
  [a, b] = await Promise.all([startApi(t, ['--no-consumers', '--push-timeout', '1500'], env), startApi(t, ['--no-consumers'], env)]);
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  if (consumer && consumer.child.exitCode === null) consumer.child.kill('SIGTERM');
  await t?.cleanup();
});

test('with no consumer running, a push answers 503 after the timeout, and is never applied once one runs', async () => {
  const started = Date.now();
  const r = await push(a, 'Early', 2);
  expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  expect(r.status).toBe(503);
  expect(r.headers.get('retry-after')).toBe('1');
  expect(r.body.error.code).toBe('not_applied');
  expect(r.body.error.field).toBeNull();
  expect(r.body.error.message).toBe('the push was not applied within 1.5 s and will not be: retry');
  expect((await call('GET', `${b.url}/api/products/Early/stats`)).status).toBe(404);

  // Meanwhile a push waits on b, and a reset of its product follows it in the topic: they are
  // applied together once the consumer runs. The push's reply is the session it went into.
  const kafka = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'api-test', logger: createLogger('test') });
  const admin = kafka.admin();
  await admin.connect();
  const topic = topicName(t.namespace, 'scores');
  const total = async () => (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
  const before = await total();
  const raced = push(b, 'Raced', 4.5);
  await waitFor('the push is in Kafka', async () => (await total()) === before + 1);
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: Number.MAX_SAFE_INTEGER },
  });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [{ key: 'Raced', value: JSON.stringify({ type: 'reset', name: 'Raced', username: 'racer', at: Date.now() }) }],
  });
  await producer.disconnect();

  consumer = await startConsumer(t, 'scores-consumer', env);
  const racedReply = await raced;
  // the push answered 503 is in the topic, and is skipped: its request was abandoned
  await waitFor('the consumer caught up', () => appliedAll(t, admin, 'scores', 'scores-consumer'));
  await admin.disconnect();
  expect((await call('GET', `${b.url}/api/products/Early/stats`)).status).toBe(404);
  expect(racedReply.status).toBe(200);
  expect(racedReply.body).toEqual({ name: 'Raced', count: 1, mean: 4.5, stddev: 0, min: 4.5, max: 4.5 });
  expect((await call('GET', `${a.url}/api/products/Raced/stats`)).body).toMatchObject({ count: 0, session: 2 });
  expect(
    (await call('GET', `${a.url}/api/products/Raced/sessions`)).body.sessions.map((x: { session: number; count: number; reset_by: string | null }) => [
      x.session,
      x.count,
      x.reset_by,
    ]),
  ).toEqual([
    [1, 1, 'racer'],
    [2, 0, null],
  ]);
});

test('pushes answered by two api processes, applied by a third: each reply includes its own push', async () => {
  const names = ['North', 'South', 'East', 'West', 'Centre'];
  const values = scores(names.length * 12, 5);
  for (const [k, name] of names.entries()) {
    const xs = values.slice(k * 12, (k + 1) * 12);
    for (let i = 0; i < xs.length; i++) {
      const via = i % 2 ? a : b;
      const r = await push(via, name, xs[i]);
      expect(r.status).toBe(200);
      expectStats(r.body, xs.slice(0, i + 1)); // exactly the pushes so far, its own included
      // ... and the other api process reads the same right after the reply.
      const other = await call('GET', `${(via === a ? b : a).url}/api/products/${name}/stats`);
      expectStats(other.body, xs.slice(0, i + 1));
    }
  }
});

test('concurrent clients on both api processes, one product: every push counted once, each client sees its own', async () => {
  const clients = 24;
  const each = 10;
  const values = scores(clients * each, 17);
  const seen = await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const counts: number[] = [];
      for (let i = 0; i < each; i++) {
        const r = await push(c % 2 ? a : b, 'Shared', values[c * each + i]);
        expect(r.status).toBe(200);
        counts.push(r.body.count);
      }
      return counts;
    }),
  );
  for (const counts of seen) for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThan(counts[i - 1]);
  expect(Math.max(...seen.flat())).toBe(clients * each);
  expectStats((await call('GET', `${a.url}/api/products/Shared/stats`)).body, values);
});

test('DASY_AUDIT=off keeps no audit rows', async () => {
  expect(await rows(t.pool, 'SELECT count(*)::int AS n FROM score_pushes')).toEqual([{ n: 0 }]);
  expect((await rows<{ n: number }>(t.pool, 'SELECT sum(count)::int AS n FROM score_stats'))[0].n).toBeGreaterThan(0);
});

test('the LISTEN connection comes back after PostgreSQL drops it, and pushes keep their read-your-writes', async () => {
  // Kill the api processes' LISTEN backends (as a PostgreSQL restart would).
  const killed = await rows<{ ok: boolean }>(
    t.pool,
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'dasy-api-listen' AND datname = current_database()`,
  );
  expect(killed.length).toBe(2);
  await waitFor('listening again', async () => {
    const [ha, hb] = await Promise.all([call('GET', `${a.url}/healthz`), call('GET', `${b.url}/healthz`)]);
    return ha.body.listening && hb.body.listening;
  });
  const before = (await call('GET', `${a.url}/api/products/North/stats`)).body.count;
  for (let i = 1; i <= 4; i++) expect((await push(i % 2 ? a : b, 'North', 1)).body.count).toBe(before + i);
});

test('/ad without AD_UPSTREAM_URL answers the built-in VAST sample', async () => {
  const r = await call('GET', `${a.url}/ad?sdk_version=1.0&session_id=s&platform=android&username=x&country_code=US`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('application/xml; charset=utf-8');
  expect(r.text).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<VAST version="4\.0">/);
  expect(r.text).toContain('<MediaFile');
});

test('SIGTERM: the api processes and the consumer exit 0, promptly', async () => {
  const started = Date.now();
  consumer!.child.kill('SIGTERM');
  const [ea, eb, ec] = await Promise.all([a.stop(), b.stop(), consumer!.exited]);
  expect(Date.now() - started).toBeLessThan(8000);
  expect([ea, eb, ec]).toEqual([
    { code: 0, signal: null },
    { code: 0, signal: null },
    { code: 0, signal: null },
  ]);
  expect(consumer!.stdout()).toMatch(/^scores-consumer running in group t-apiproc_[0-9a-f]+\.scores-consumer, partitions 0,1,2,3,4,5\n$/);
  // The only log lines: the LISTEN connection lost and back (said once each), nothing else.
  for (const api of [a, b]) {
    expect(api.cli.stderr().replace(/^\S+ /gm, '')).toBe(
      'WARN dasy:applied: lost the LISTEN connection (terminating connection due to administrator command); reconnecting\n' +
        'WARN dasy:applied: listening for applied offsets again\n',
    );
  }
  expect(consumer!.stderr()).toBe('');
});

test('the api migration reverts to nothing and applies again', async () => {
  const apiTables = ['ad_counters', 'score_buckets', 'score_pushes', 'score_sessions', 'score_stats'];
  const present = async () =>
    (
      await rows<{ t: string }>(t.pool, `SELECT tablename AS t FROM pg_tables WHERE schemaname = $2 AND tablename = ANY($1) ORDER BY 1`, [
        apiTables,
        t.namespace,
      ])
    ).map((r) => r.t);
  expect(await present()).toEqual(apiTables);
  await revertMigrations(t.databaseUrl, t.namespace);
  expect(await present()).toEqual([]);
  expect(await runMigrations(t.databaseUrl, t.namespace)).toContain('Api1732300001000');
  expect(await present()).toEqual(apiTables);
});
