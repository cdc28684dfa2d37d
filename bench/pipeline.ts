import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pool } from 'pg';
import { createKafka } from '../libs/kafka/client';
import { endOffsets, groupId, topicName, TOPICS, totalLag } from '../libs/kafka/topics';
import { Logger } from '../libs/log';
import { storedOffsets } from '../libs/db/offsets';
import { IDLE_IN_TRANSACTION_DEFAULT_MS } from '../libs/config';
import { createPool, quoteIdent } from '../libs/db';
import { runMigrations } from '../libs/db/migrate';
import { sleep } from '../libs/resilience';
import { streamingExecArgv } from '../libs/runtime/supervisor';
import { busyShare, byLabel, findKafkaPid, machineTicks, ProcSampler } from './proc';

export const CLI = path.join(__dirname, '..', 'apps', 'cli', 'main.js');
/** The development entry point (dev/main.ts): `ingest --phases-file`, the ingest with its phases timed. */
export const DEV_CLI = path.join(__dirname, '..', 'dev', 'main.js');

/** Children still running, killed if the bench stops early. */
export const liveChildren = new Set<ChildProcess>();

export interface BenchEnv {
  databaseUrl: string;
  kafkaBrokers: string[];
  logger: Logger;
}

/** Environment of a dasy child: the bench database and namespace, quiet logs. */
export function childEnv(bench: BenchEnv, namespace: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: bench.databaseUrl,
    KAFKA_BROKERS: bench.kafkaBrokers.join(','),
    DASY_NAMESPACE: namespace,
    ...extra,
  };
  delete env.DASY_LOG_LEVEL;
  delete env.DASY_API_TOKEN;
  env.CI = 'true'; // no progress bars
  return env;
}

/** PostgreSQL backends serving the bench database (their CPU is part of the pipeline's cost). */
export function backendTracker(pool: Pool, database: string) {
  const pids = new Map<number, string>();
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      try {
        const { rows } = await pool.query<{ pid: number; app: string }>(
          'SELECT pid, application_name AS app FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [database],
        );
        for (const r of rows) pids.set(r.pid, `pg:${r.app.replace(/^dasy-/, '') || '?'}`);
      } catch {
        /* keep sampling */
      }
      await sleep(100);
    }
  };
  const loop = poll();
  return {
    pids: () => [...pids.keys()],
    label: (pid: number) => pids.get(pid),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

export interface ChildRun {
  code: number | null;
  seconds: number;
  stdout: string;
  stderr: string;
  processes: ReturnType<typeof byLabel>;
  /** share of the machine's CPU busy meanwhile (anyone's work, not only this run's) */
  machineBusy?: number;
}

/** Run `dasy <args>` (or the development entry point's, `cli`) to its end, timed from spawn to exit, with its process tree sampled. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, sample: { pool: Pool; database: string }, cli = CLI): Promise<ChildRun> {
  const kafkaPid = findKafkaPid();
  const backends = backendTracker(sample.pool, sample.database);
  const started = process.hrtime.bigint();
  const ticks = machineTicks();
  const child = fork(cli, args, { env, execArgv: streamingExecArgv(args[0]), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  liveChildren.add(child);
  const sampler = new ProcSampler(child.pid!, () => [...backends.pids(), ...(kafkaPid ? [kafkaPid] : [])], 200, backends.label).start();
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const machineBusy = busyShare(ticks, machineTicks());
  liveChildren.delete(child);
  sampler.sample();
  const figures = sampler.stop();
  await backends.stop();
  return { code, seconds, stdout, stderr, processes: byLabel(figures), machineBusy };
}

export interface Check {
  products: number;
  names: number;
  /** rows of `GROUP BY name` missing from product_count plus rows of product_count that are wrong */
  mismatches: number;
}

/** Where a run's rows and counts are: products' tables, or a declared dataset's of the same shape (bench/specs/catalog.yaml). */
export interface CountedTables {
  rows: string;
  counts: string;
}

export const PRODUCTS_TABLES: CountedTables = { rows: 'products', counts: 'product_count' };

/** The aggregate is exact: the counts table equals `SELECT name, count(*) FROM <rows> GROUP BY name`. */
export async function checkExact(pool: Pool, tables: CountedTables = PRODUCTS_TABLES): Promise<Check> {
  const r = quoteIdent(tables.rows);
  const c = quoteIdent(tables.counts);
  const { rows } = await pool.query<{ p: string; n: string; a: string; b: string }>(`
    SELECT (SELECT count(*) FROM ${r}) AS p, (SELECT count(*) FROM ${c}) AS n,
      (SELECT count(*) FROM (SELECT name, count(*)::int FROM ${r} GROUP BY name
                             EXCEPT SELECT name, no_of_products::int FROM ${c}) x) AS a,
      (SELECT count(*) FROM (SELECT name, no_of_products::int FROM ${c}
                             EXCEPT SELECT name, count(*)::int FROM ${r} GROUP BY name) y) AS b`);
  return { products: Number(rows[0].p), names: Number(rows[0].n), mismatches: Number(rows[0].a) + Number(rows[0].b) };
}

export interface IngestRun {
  seconds: number;
  /** the summary line's own figure */
  reported: number;
  summary: Record<string, unknown>;
  phases?: Record<string, number>;
  check: Check;
  processes: ChildRun['processes'];
  machineBusy?: number;
}

/**
 * `dasy ingest` as a child process, end to end (through the development entry point, which writes
 * its phases), then the tables checked. With `dataset`, a declared dataset's ingest (`--dataset`),
 * its tables checked.
 */
export async function runIngest(
  bench: BenchEnv,
  pool: Pool,
  database: string,
  namespace: string,
  file: string,
  consumers = 2,
  dataset?: { spec: string; tables: CountedTables },
): Promise<IngestRun> {
  const phasesFile = path.join(os.tmpdir(), `dasy-bench-phases-${process.pid}-${namespace}.json`);
  fs.rmSync(phasesFile, { force: true });
  const rejects = path.join(os.tmpdir(), `dasy-bench-${process.pid}.rejects.csv`);
  const r = await runCli(
    [
      'ingest',
      '--file',
      file,
      '--consumers',
      String(consumers),
      '--rejects',
      rejects,
      '--phases-file',
      phasesFile,
      ...(dataset ? ['--dataset', dataset.spec] : []),
    ],
    childEnv(bench, namespace),
    { pool, database },
    DEV_CLI,
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0) throw new Error(`dasy ingest failed (${r.code}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  let summary: Record<string, unknown>;
  try {
    summary = JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`dasy ingest printed no JSON summary: ${last.slice(0, 200)}`);
  }
  let phases: Record<string, number> | undefined;
  try {
    phases = JSON.parse(fs.readFileSync(phasesFile, 'utf8')) as Record<string, number>;
    fs.rmSync(phasesFile, { force: true });
  } catch {
    phases = undefined;
  }
  const own = createPool({ databaseUrl: bench.databaseUrl, namespace, max: 1, idleInTransactionMs: IDLE_IN_TRANSACTION_DEFAULT_MS });
  const check = await checkExact(own, dataset?.tables).finally(() => own.end());
  return { seconds: r.seconds, reported: Number(summary.seconds), summary, phases, check, processes: r.processes, machineBusy: r.machineBusy };
}

/** The namespace's schema and tables, before its first run (as a fresh install has them before its first ingest). */
export async function migrateNamespace(bench: BenchEnv, namespace: string): Promise<void> {
  await runMigrations(bench.databaseUrl, namespace);
}

/** Delete a namespace's topics and its schema (after its runs). */
export async function dropNamespace(bench: BenchEnv, pool: Pool, namespace: string): Promise<void> {
  const kafka = createKafka({ brokers: bench.kafkaBrokers, clientId: 'dasy-bench', logger: bench.logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const mine = [...existing].filter((t) => t.startsWith(namespace + '.'));
    if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30000 }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(namespace)} CASCADE`);
}

export interface ProducerRun {
  seconds: number;
  records: number;
  processes: ChildRun['processes'];
}

/** `dasy products-producer` alone into a fresh namespace: records/s of the producer's own clock. */
export async function runProducer(bench: BenchEnv, pool: Pool, database: string, namespace: string, file: string): Promise<ProducerRun> {
  const rejects = path.join(os.tmpdir(), `dasy-bench-${process.pid}.rejects.csv`);
  const r = await runCli(['products-producer', '--file', file, '--rejects', rejects], childEnv(bench, namespace), { pool, database });
  if (r.code !== 0) throw new Error(`dasy products-producer failed (${r.code}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  const m = /(\d+) sent, (\d+) rejected .* in ([\d.]+) s/.exec(r.stdout);
  const records = m ? Number(m[1]) : NaN;
  return { seconds: m ? Number(m[3]) : r.seconds, records, processes: r.processes };
}

export interface ConsumerRun {
  seconds: number;
  messages: number;
  partitions: number;
  processes: ReturnType<typeof byLabel>;
}

/**
 * N `dasy products-consumer` processes draining what the producer left: timed from the moment
 * the group has spread every partition to the moment the stored offsets reach the end offsets.
 */
export async function runConsumers(bench: BenchEnv, pool: Pool, database: string, namespace: string, consumers = 2): Promise<ConsumerRun> {
  const topic = topicName(namespace, 'products');
  const group = groupId(namespace, 'products-consumer');
  const kafka = createKafka({ brokers: bench.kafkaBrokers, clientId: 'dasy-bench', logger: bench.logger });
  const admin = kafka.admin();
  await admin.connect();
  const end = await endOffsets(admin, topic);
  await admin.disconnect();
  const messages = Number([...end.values()].reduce((a, b) => a + b, 0n));
  const partitions = TOPICS.products.partitions;
  const kafkaPid = findKafkaPid();
  const backends = backendTracker(pool, database);
  const own = createPool({ databaseUrl: bench.databaseUrl, namespace, max: 1, idleInTransactionMs: IDLE_IN_TRANSACTION_DEFAULT_MS });
  const children: ChildProcess[] = [];
  const assigned = new Map<number, number[]>();
  const samplers: ProcSampler[] = [];
  for (let i = 0; i < consumers; i++) {
    const child = fork(CLI, ['products-consumer', '--consumers', '1'], { env: childEnv(bench, namespace), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.stderr!.resume();
    child.on('message', (m: { type?: string; partitions?: number[] }) => {
      if (m?.type === 'assigned' && m.partitions) assigned.set(i, m.partitions);
    });
    liveChildren.add(child);
    children.push(child);
    samplers.push(new ProcSampler(child.pid!, i === 0 ? () => [...backends.pids(), ...(kafkaPid ? [kafkaPid] : [])] : () => [], 200, backends.label).start());
  }
  try {
    const deadline = Date.now() + 60000;
    for (;;) {
      const all = [...assigned.values()].flat();
      if (new Set(all).size === partitions && all.length === partitions) break;
      if (Date.now() > deadline) break; // time it anyway
      await sleep(10);
    }
    const started = process.hrtime.bigint();
    for (;;) {
      if (totalLag(end, await storedOffsets(own, group, topic)) === 0n) break;
      if (children.every((c) => c.exitCode !== null)) throw new Error('products consumers exited before catching up');
      await sleep(20);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const s of samplers) s.sample();
    return { seconds, messages, partitions, processes: byLabel(samplers.flatMap((s) => s.stop())) };
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
    for (const c of children) liveChildren.delete(c);
    await backends.stop();
    await own.end();
  }
}
