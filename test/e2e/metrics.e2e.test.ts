import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { groupId } from '../../libs/kafka/topics';
import { ApiProcess, call, startApi } from './api-client';
import { createTestEnv, freePort, ROOT, startCli, TestEnv, waitFor } from './harness';

/**
 * The metrics (README: Metrics) as a real Prometheus sees them: Debian's `prometheus` scrapes the
 * api and a consumer's own --metrics-port every second; the test asks its HTTP API.
 */

let t: TestEnv;
let api: ApiProcess;
let prometheus: { url: string; child: ChildProcess };
let partsPort: number;
const FILE = 'catalogue.csv';

beforeAll(async () => {
  t = await createTestEnv('metrics');
  api = await startApi(t);
  partsPort = await freePort();
  prometheus = await startPrometheus([
    { job: 'dasy-api', target: new URL(api.url).host },
    { job: 'dasy-parts', target: `127.0.0.1:${partsPort}` },
  ]);
});

afterAll(async () => {
  prometheus?.child.kill('SIGTERM');
  await api?.stop();
  await t?.cleanup();
});

/** Prometheus on a free port, scraping `targets` every second, its storage in the test's folder. */
async function startPrometheus(targets: { job: string; target: string }[]) {
  const port = await freePort();
  const dir = path.join(t.tmp, 'prometheus');
  fs.mkdirSync(dir);
  const config = path.join(dir, 'prometheus.yml');
  const jobs = targets.map((x) => `  - job_name: ${x.job}\n    static_configs:\n      - targets: ['${x.target}']`).join('\n');
  fs.writeFileSync(config, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${jobs}\n`);
  const args = [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'];
  const child = spawn('prometheus', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.on('error', (err) => (stderr += `${err.message} (is Debian's prometheus installed? make test installs it)`));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`Prometheus ready (${stderr})`, async () => (await fetch(`${url}/-/ready`)).ok, 60000, 200);
  return { url, child };
}

/** An instant query's result, through Prometheus's HTTP API. */
async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

/** The value of a query with one result (undefined when it has none). */
async function value(expr: string): Promise<number | undefined> {
  const r = await query(expr);
  return r.length ? Number(r[0].value[1]) : undefined;
}

const untilValue = (expr: string, want: number, timeoutMs = 60000) => waitFor(`${expr} == ${want}`, async () => (await value(expr)) === want, timeoutMs, 250);

test('lag rises when records wait and goes to 0 once a consumer applied them; its process series too', async () => {
  const group = groupId(t.namespace, 'products-consumer');
  const lines = ['name,sku,description', ...Array.from({ length: 300 }, (_, i) => `Name ${i % 17},sku-${i},d`), 'no sku,,x', 'too,many,fields,here'];
  const file = path.join(t.tmp, FILE);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const produced = await new Promise<number | null>((resolve) =>
    startCli(t, ['products-producer', '--file', file, '--rejects', path.join(t.tmp, 'rejects.csv')]).child.on('exit', resolve),
  );
  expect(produced).toBe(0);
  // nobody consumes yet: the api's exporter shows every record waiting
  await untilValue(`sum(dasy_consumer_lag{job="dasy-api", group="${group}"})`, 300);
  await untilValue(`dasy_csv_rejected_records_total{job="dasy-api", file="${FILE}"}`, 2);
  await untilValue(`dasy_csv_records_total{job="dasy-api", file="${FILE}"}`, 302);

  const consumer = startCli(t, ['products-consumer', '--consumers', '1', '--metrics-port', String(partsPort)]);
  await untilValue(`sum(dasy_consumer_lag{job="dasy-api", group="${group}"})`, 0);
  expect(await value(`count(dasy_consumer_lag{job="dasy-api", group="${group}"})`)).toBe(6);
  expect(await value(`sum(dasy_consumer_stored_offset{job="dasy-api", group="${group}"})`)).toBe(300);
  // the consumer's own series, from its --metrics-port
  await untilValue(`sum(dasy_consumer_records_applied_total{job="dasy-parts", group="${group}"})`, 300);
  expect(await value(`dasy_consumer_members_joined{job="dasy-parts", group="${group}"}`)).toBe(1);
  expect(await value(`dasy_consumer_assigned_partitions{job="dasy-parts", group="${group}"}`)).toBe(6);
  expect(await value(`count(nodejs_heap_size_used_bytes{job="dasy-parts"})`)).toBe(1);
  // rows: PostgreSQL's statistics catch up within seconds
  await untilValue(`dasy_table_rows{job="dasy-api", table="products"}`, 300);

  const health = await call('GET', `http://127.0.0.1:${partsPort}/healthz`);
  const ready = await call('GET', `http://127.0.0.1:${partsPort}/readyz`);
  expect([health.status, health.body, ready.status, ready.body]).toEqual([
    200,
    { status: 'ok' },
    200,
    { status: 'ready', checks: { postgresql: 'ok', kafka: 'ok', consumers: 'ok' } },
  ]);
  consumer.child.kill('SIGTERM');
  expect((await consumer.exited).code).toBe(0);
});

test('the push counter and the time to applied rise with pushes; the api is ready', async () => {
  const pushes = 'sum(dasy_api_request_duration_seconds_count{job="dasy-api", route="/api/push"})';
  await untilValue(pushes, 0);
  for (let i = 0; i < 5; i++) {
    const r = await call('POST', `${api.url}/api/push`, { json: { name: 'Metered', score: i } });
    expect(r.status).toBe(200);
  }
  const bad = await call('POST', `${api.url}/api/push`, { json: { name: 'Metered', score: 9 } });
  expect(bad.status).toBe(400);
  await untilValue(pushes, 6);
  expect(await value(`dasy_api_request_duration_seconds_count{job="dasy-api", route="/api/push", status="200"}`)).toBe(5);
  expect(await value(`dasy_api_request_duration_seconds_count{job="dasy-api", route="/api/push", status="400"}`)).toBe(1);
  expect(await value('dasy_api_push_applied_seconds_count{job="dasy-api"}')).toBe(5);
  expect(await value(`sum(dasy_consumer_records_applied_total{job="dasy-api", group="${groupId(t.namespace, 'scores-consumer')}"})`)).toBe(5);
  expect(await value('dasy_kafka_up{job="dasy-api"}')).toBe(1);
  expect(await value('dasy_postgresql_up{job="dasy-api"}')).toBe(1);
  expect(await call('GET', `${api.url}/readyz`)).toMatchObject({
    status: 200,
    body: { status: 'ready', checks: { postgresql: 'ok', kafka: 'ok', consumers: 'ok' } },
  });
});

test('dasy metrics, the exporter on its own, shows the same cluster series as the api', async () => {
  const port = await freePort();
  const exporter = startCli(t, ['metrics', '--port', String(port)]);
  await waitFor('the exporter listens', async () => exporter.stdout().includes('metrics listening on'), 60000);
  const lag = async (url: string) =>
    (await (await fetch(`${url}/metrics`)).text())
      .split('\n')
      .filter((l) => l.startsWith('dasy_consumer_lag{') || l.startsWith('dasy_consumer_stored_offset{'))
      .sort();
  const own = await lag(`http://127.0.0.1:${port}`);
  expect(own).toHaveLength(2 * 4 * 6); // stored offset and lag, of 4 groups of 6 partitions
  expect(own).toEqual(await lag(api.url));
  expect(await call('GET', `http://127.0.0.1:${port}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
  exporter.child.kill('SIGTERM');
  expect((await exporter.exited).code).toBe(0);
});

test('with Kafka unreachable, the exporter says so: dasy_kafka_up 0, no lag series, /readyz 503 with the reason', async () => {
  const port = await freePort();
  const exporter = startCli(t, ['metrics', '--port', String(port)], { KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });
  await waitFor('the exporter listens', async () => exporter.stdout().includes('metrics listening on'), 60000);
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  expect(text.split('\n').filter((l) => /^dasy_(kafka|postgresql)_up|^dasy_consumer_lag/.test(l))).toEqual([
    `dasy_kafka_up{namespace="${t.namespace}"} 0`,
    `dasy_postgresql_up{namespace="${t.namespace}"} 1`,
  ]);
  const ready = await call('GET', `http://127.0.0.1:${port}/readyz`);
  expect([ready.status, ready.body]).toEqual([
    503,
    { status: 'not ready', checks: { postgresql: 'ok', kafka: 'no answer within 2 s' }, reason: 'kafka: no answer within 2 s' },
  ]);
  exporter.child.kill('SIGTERM');
  expect((await exporter.exited).code).toBe(0);
});

test('the shipped Prometheus configuration is valid, and every query of the Grafana dashboard runs', async () => {
  const { stdout } = await promisify(execFile)('promtool', ['check', 'config', path.join(ROOT, 'infra', 'prometheus', 'prometheus.yml')]);
  expect(stdout).toContain('SUCCESS');
  const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'grafana', 'dasy.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr.replace(/\$namespace/g, t.namespace).replace(/\$job/g, 'dasy-api')));
  for (const expr of exprs) await query(expr); // throws on an invalid query
  expect(await query(`sum by (group) (dasy_consumer_lag{namespace="${t.namespace}", job="dasy-api"})`)).toHaveLength(4);
});
