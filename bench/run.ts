import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pool } from 'pg';
import { databaseName, DasyConfig, withDatabase } from '../libs/config';
import { dropDatabase, ensureDatabase } from '../libs/db';
import { runMigrations } from '../libs/db/migrate';
import { createKafka } from '../libs/kafka/client';
import { ensureTopics, TOPICS } from '../libs/kafka/topics';
import { Logger } from '../libs/log';
import { FloorRun, runFloor } from './floor';
import { load, LoadResult, pushRequests, ServerChild, startApi, startBare, statsRequests } from './http';
import { BenchEnv, childEnv, CLI, dropNamespace, IngestRun, liveChildren, runConsumers, runIngest, runProducer, truncateAll } from './pipeline';
import { procAvailable } from './proc';
import { figure, Figure, fmt, round } from './stats';

import type { Workload } from './index';

/**
 * The benchmarks behind `dasy bench`. They run in their own databases (`<db>_bench`,
 * `<db>_bench_floor`, created and migrated here) and namespaces (`<ns>-bench-...`, deleted after
 * each run): they never touch anyone's data.
 */

export interface Options {
  quick: boolean;
  runs: number;
  warmups: number;
  only: Workload[];
  rows?: number;
  scaleRows?: number;
}

interface Row {
  workload: string;
  metric: string;
  value: Figure;
  floor?: Figure;
  /** value / floor of the medians (for times: how many times the floor; for rates: floor / value) */
  ratio?: number;
  note?: string;
}

interface Context {
  config: DasyConfig;
  logger: Logger;
  options: Options;
  bench: BenchEnv;
  pipelineDb: string;
  floorDb: string;
  pool: Pool;
  floorPool: Pool;
  rows: Row[];
  results: Record<string, unknown>;
  stamp: string;
  floors: Map<number, FloorRun[]>;
  nsCounter: number;
}

function say(line: string) {
  process.stderr.write(`bench: ${line}\n`);
}

export async function bench(config: DasyConfig, logger: Logger, options: Options): Promise<number> {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run `make build`');
  if (!procAvailable) say('no /proc here: peak RSS and CPU per process are not measured');
  const started = new Date();
  const stamp = started
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z');
  const base = databaseName(config.databaseUrl);
  const pipelineDb = `${base}_bench`;
  const floorDb = `${base}_bench_floor`;
  const pipelineUrl = withDatabase(config.databaseUrl, pipelineDb);
  const floorUrl = withDatabase(config.databaseUrl, floorDb);
  // Fresh databases at every run: a schema left by an older version of a migration cannot skew
  // (or break) the figures.
  for (const url of [pipelineUrl, floorUrl]) {
    await dropDatabase(url);
    await ensureDatabase(url);
    await runMigrations(url);
  }
  const ctx: Context = {
    config,
    logger,
    options,
    bench: { databaseUrl: pipelineUrl, kafkaBrokers: config.kafkaBrokers, logger: logger.namespace('bench') },
    pipelineDb,
    floorDb,
    pool: new Pool({ connectionString: pipelineUrl, max: 3, application_name: 'dasy-bench' }),
    floorPool: new Pool({ connectionString: floorUrl, max: 1, application_name: 'dasy-bench' }),
    rows: [],
    results: {},
    stamp,
    floors: new Map(),
    nsCounter: 0,
  };
  const stopChildren = () => {
    for (const c of liveChildren) c.kill('SIGKILL');
  };
  process.once('SIGINT', () => {
    stopChildren();
    process.exit(130);
  });
  process.once('SIGTERM', () => {
    stopChildren();
    process.exit(143);
  });
  const rows = options.rows ?? (options.quick ? 50_000 : 500_000);
  const scaleRows = options.scaleRows ?? (options.quick ? 100_000 : 2_000_000);
  say(
    `${options.quick ? 'quick' : 'full'} run: ${options.only.join(', ')}; ${options.runs} measured run(s) after a warm-up; databases ${pipelineDb} and ${floorDb}`,
  );
  const load0 = os.loadavg();
  try {
    if (options.only.includes('ingest')) await ingestWorkload(ctx, rows, true);
    if (options.only.includes('scale')) await ingestWorkload(ctx, scaleRows, false);
    if (options.only.includes('stages')) await stagesWorkload(ctx, rows);
    if (options.only.includes('api')) await apiWorkload(ctx);
  } finally {
    stopChildren();
    await ctx.pool.end().catch(() => undefined);
    await ctx.floorPool.end().catch(() => undefined);
  }
  const finished = new Date();
  const report = {
    started: started.toISOString(),
    finished: finished.toISOString(),
    seconds: round((finished.getTime() - started.getTime()) / 1000, 1),
    quick: options.quick,
    runs: options.runs,
    host: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      loadavgBefore: load0.map((x) => round(x, 2)),
      loadavgAfter: os.loadavg().map((x) => round(x, 2)),
    },
    commit: gitCommit(),
    table: ctx.rows,
    workloads: ctx.results,
  };
  const dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `${stamp}${options.quick ? '-quick' : ''}.json`);
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(formatTable(ctx.rows));
  console.log(
    `\nload average ${load0.map((x) => x.toFixed(1)).join(' ')} before, ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} after; ${os.cpus().length} CPUs; ${report.seconds} s in all`,
  );
  console.log(`results: ${path.relative(process.cwd(), out)}`);
  return 0;
}

function gitCommit(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: path.resolve(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: path.resolve(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return undefined;
  }
}

/** data/generated/bench-<rows>.csv (seed 1), generated once. */
function dataFile(rows: number): string {
  const file = path.resolve(__dirname, '..', '..', 'data', 'generated', `bench-${rows}-seed1.csv`);
  if (fs.existsSync(file) && fs.statSync(file).size > 0) return file;
  say(`generating ${rows.toLocaleString('en-US')} rows into ${path.relative(process.cwd(), file)}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const r = spawnSync(process.execPath, [CLI, 'data', '--rows', String(rows), '--seed', '1', '--out', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`dasy data failed (${r.status})`);
  fs.renameSync(tmp, file);
  return file;
}

function namespace(ctx: Context): string {
  return `${ctx.config.namespace}-bench-${ctx.stamp
    .slice(0, 19)
    .replace(/[^0-9]/g, '')
    .slice(4)}-${++ctx.nsCounter}`;
}

function median(xs: number[]): number {
  return figure('', xs).median;
}

/** Per label: peak RSS (max over the runs) and CPU seconds (median over the runs). */
function processTable(runs: IngestRun['processes'][]) {
  const labels = new Set(runs.flatMap((r) => Object.keys(r)));
  const out: Record<string, { processes: number; peakRssMb: number; cpuSeconds: number }> = {};
  for (const l of labels) {
    const of = runs.map((r) => r[l]).filter(Boolean);
    out[l] = {
      processes: Math.max(...of.map((o) => o.processes)),
      peakRssMb: Math.max(...of.map((o) => o.peakRssMb)),
      cpuSeconds: round(median(of.map((o) => o.cpuSeconds)), 2),
    };
  }
  return out;
}

async function ensureFloor(ctx: Context, rows: number, file: string, runs: number): Promise<FloorRun[]> {
  const have = ctx.floors.get(rows) ?? [];
  while (have.length < runs) {
    say(`floor ${rows.toLocaleString('en-US')} rows, run ${have.length + 1}/${runs}`);
    have.push(await runFloor(withDatabase(ctx.config.databaseUrl, ctx.floorDb), file));
  }
  ctx.floors.set(rows, have);
  return have;
}

/**
 * First ingest of `rows` rows (fresh tables, fresh namespace) against the floor, interleaved run
 * by run so that the machine's noise touches both alike; with `reingest`, the same file again
 * into the same namespace (nothing may change).
 */
async function ingestWorkload(ctx: Context, rows: number, reingest: boolean) {
  const file = dataFile(rows);
  const label = `ingest ${rows.toLocaleString('en-US')}`;
  const warmups = ctx.options.warmups;
  const total = ctx.options.runs + warmups;
  const floors: FloorRun[] = [];
  const ingests: IngestRun[] = [];
  const reingests: IngestRun[] = [];
  for (let i = 0; i < total; i++) {
    const tag = i < warmups ? 'warm-up' : `run ${i - warmups + 1}/${ctx.options.runs}`;
    say(`${label}: floor, ${tag}`);
    const floor = await runFloor(withDatabase(ctx.config.databaseUrl, ctx.floorDb), file);
    const ns = namespace(ctx);
    await truncateAll(ctx.pool);
    say(`${label}: dasy ingest, ${tag} (namespace ${ns})`);
    try {
      const run = await runIngest(ctx.bench, ctx.pool, ctx.pipelineDb, ns, file);
      verify(run, floor, `${label} ${tag}`);
      let again: IngestRun | undefined;
      if (reingest) {
        say(`${label}: dasy ingest of the same file again, ${tag}`);
        again = await runIngest(ctx.bench, ctx.pool, ctx.pipelineDb, ns, file);
        verify(again, floor, `re-${label} ${tag}`);
      }
      say(
        `${label} ${tag}: floor ${floor.seconds.toFixed(2)} s, ingest ${run.seconds.toFixed(2)} s (${(run.seconds / floor.seconds).toFixed(2)}x)` +
          (again ? `, re-ingest ${again.seconds.toFixed(2)} s` : '') +
          (run.machineBusy !== undefined ? `, machine ${Math.round(run.machineBusy * 100)}% busy` : '') +
          (run.phases ? ` phases ${JSON.stringify(run.phases)}` : ''),
      );
      if (i >= warmups) {
        floors.push(floor);
        ingests.push(run);
        if (again) reingests.push(again);
      }
    } finally {
      await dropNamespace(ctx.bench, ctx.pool, ns).catch((err) => say(`could not delete namespace ${ns}: ${(err as Error).message}`));
    }
  }
  ctx.floors.set(rows, floors);
  const floorFig = figure(
    's',
    floors.map((f) => f.seconds),
  );
  const ingestFig = figure(
    's',
    ingests.map((r) => r.seconds),
  );
  const ratio = ingestFig.median / floorFig.median;
  const workload = reingest ? 'ingest' : 'ingest (size)';
  ctx.rows.push({
    workload: `${workload} ${rows.toLocaleString('en-US')} rows`,
    metric: 'end to end',
    value: ingestFig,
    floor: floorFig,
    ratio: round(ratio, 2),
  });
  ctx.rows.push({
    workload: '',
    metric: 'rows/s',
    value: figure(
      'rows/s',
      ingests.map((r) => rows / r.seconds),
    ),
  });
  if (reingests.length) {
    const re = figure(
      's',
      reingests.map((r) => r.seconds),
    );
    ctx.rows.push({
      workload: `re-ingest ${rows.toLocaleString('en-US')} rows`,
      metric: 'same file again',
      value: re,
      floor: floorFig,
      ratio: round(re.median / floorFig.median, 2),
      note: 'nothing changes',
    });
  }
  const procs = processTable(ingests.map((r) => r.processes));
  const peak = Object.entries(procs).filter(([l]) => !l.startsWith('pg:') && l !== 'postgres' && l !== 'kafka');
  const maxRss = Math.max(...peak.map(([, p]) => p.peakRssMb));
  ctx.rows.push({
    workload: '',
    metric: 'peak RSS per process',
    value: figure('MB', [maxRss]),
    note: peak.map(([l, p]) => `${l} ${p.peakRssMb}`).join(', '),
  });
  const cpu = Object.entries(procs).map(([l, p]) => `${l} ${p.cpuSeconds}`);
  const busy = ingests.map((r) => r.machineBusy).filter((b): b is number => b !== undefined);
  if (busy.length)
    ctx.rows.push({
      workload: '',
      metric: 'machine CPU busy (%)',
      value: figure(
        '%',
        busy.map((b) => b * 100),
      ),
      note: "anyone's work: the stack, the pipeline, other users",
    });
  ctx.rows.push({
    workload: '',
    metric: 'CPU s by process (median)',
    value: figure('s', [Object.values(procs).reduce((a, p) => a + p.cpuSeconds, 0)]),
    note: cpu.join(', '),
  });
  const prior = ctx.results['ingest'] as { rows: number; medianSeconds: number } | undefined;
  const entry: Record<string, unknown> = {
    rows,
    file: path.relative(process.cwd(), file),
    floor: {
      seconds: floorFig,
      copy: figure(
        's',
        floors.map((f) => f.copySeconds),
      ),
      upsert: figure(
        's',
        floors.map((f) => f.upsertSeconds),
      ),
      count: figure(
        's',
        floors.map((f) => f.countSeconds),
      ),
    },
    ingest: {
      seconds: ingestFig,
      reported: figure(
        's',
        ingests.map((r) => r.reported),
      ),
      phases: ingests.map((r) => r.phases),
    },
    ratio: round(ratio, 3),
    reingest: reingests.length
      ? {
          seconds: figure(
            's',
            reingests.map((r) => r.seconds),
          ),
          phases: reingests.map((r) => r.phases),
        }
      : undefined,
    processes: procs,
    machineBusy: busy.length ? figure('share', busy) : undefined,
    checks: ingests.map((r) => r.check),
    medianSeconds: ingestFig.median,
  };
  if (!reingest && prior) {
    // linear growth: seconds per row at this size over seconds per row at the base size
    const growth = ingestFig.median / rows / (prior.medianSeconds / prior.rows);
    entry.perRowVsBase = round(growth, 3);
    ctx.rows.push({ workload: '', metric: `time per row vs ${prior.rows.toLocaleString('en-US')}`, value: figure('x', [growth]), note: '1.00 = linear' });
  }
  ctx.results[reingest ? 'ingest' : 'scale'] = entry;
}

function verify(run: IngestRun, floor: FloorRun, what: string) {
  const c = run.check;
  if (c.mismatches !== 0 || c.products !== floor.products || c.names !== floor.names) {
    throw new Error(
      `${what}: wrong result: products ${c.products} (floor ${floor.products}), names ${c.names} (floor ${floor.names}), ${c.mismatches} product_count rows differ from GROUP BY`,
    );
  }
}

/** The producer alone (records/s), then the products consumers alone (messages/s/partition). */
async function stagesWorkload(ctx: Context, rows: number) {
  const file = dataFile(rows);
  const floors = await ensureFloor(ctx, rows, file, ctx.options.runs);
  const produced: number[] = [];
  const consumed: number[] = [];
  const consumedTotal: number[] = [];
  const procs: Record<string, unknown>[] = [];
  for (let i = 0; i < ctx.options.runs + ctx.options.warmups; i++) {
    const tag = i < ctx.options.warmups ? 'warm-up' : `run ${i - ctx.options.warmups + 1}/${ctx.options.runs}`;
    const ns = namespace(ctx);
    await truncateAll(ctx.pool);
    try {
      // topics first, so that the producer's figure is not its first run's topic creation
      await prepareNamespace(ctx, ns);
      say(`stages ${rows.toLocaleString('en-US')}: products-producer alone, ${tag}`);
      const p = await runProducer(ctx.bench, ctx.pool, ctx.pipelineDb, ns, file);
      say(`stages ${rows.toLocaleString('en-US')}: 2 products-consumers draining, ${tag}`);
      const c = await runConsumers(ctx.bench, ctx.pool, ctx.pipelineDb, ns, 2);
      say(
        `stages ${tag}: producer ${fmt(p.records / p.seconds)} records/s; consumers ${fmt(c.messages / c.seconds / c.partitions)} msg/s/partition (${c.seconds.toFixed(2)} s)`,
      );
      if (i >= ctx.options.warmups) {
        produced.push(p.records / p.seconds);
        consumed.push(c.messages / c.seconds / c.partitions);
        consumedTotal.push(c.messages / c.seconds);
        procs.push({ producer: p.processes, consumers: c.processes });
      }
    } finally {
      await dropNamespace(ctx.bench, ctx.pool, ns).catch(() => undefined);
    }
  }
  const copyRate = figure(
    'rows/s',
    floors.map((f) => rows / f.copySeconds),
  );
  const upsertRate = figure(
    'rows/s',
    floors.map((f) => rows / f.upsertSeconds),
  );
  const prod = figure('records/s', produced);
  const cons = figure('msg/s/partition', consumed);
  const consAll = figure('msg/s', consumedTotal);
  ctx.rows.push({
    workload: `producer alone ${rows.toLocaleString('en-US')}`,
    metric: 'records/s',
    value: prod,
    floor: copyRate,
    ratio: round(copyRate.median / prod.median, 2),
    note: 'floor: psql \\copy rows/s',
  });
  ctx.rows.push({ workload: `consumers alone (2 processes, ${TOPICS.products.partitions} partitions)`, metric: 'msg/s/partition', value: cons });
  ctx.rows.push({
    workload: '',
    metric: 'msg/s in all',
    value: consAll,
    floor: upsertRate,
    ratio: round(upsertRate.median / consAll.median, 2),
    note: 'floor: DISTINCT ON upsert rows/s',
  });
  ctx.results.stages = {
    rows,
    producer: prod,
    consumersPerPartition: cons,
    consumers: consAll,
    floorCopy: copyRate,
    floorUpsert: upsertRate,
    processes: procs,
  };
}

async function prepareNamespace(ctx: Context, ns: string) {
  const kafka = createKafka({ brokers: ctx.config.kafkaBrokers, clientId: 'dasy-bench', logger: ctx.bench.logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, ns);
  } finally {
    await admin.disconnect();
  }
}

/** Pushes and GET stats at 64 connections against `dasy api`, and a bare node:http server alike. */
async function apiWorkload(ctx: Context) {
  const seconds = ctx.options.quick ? 2 : 8;
  const warm = ctx.options.quick ? 1 : 3;
  const connections = 64;
  const names = Array.from({ length: 1000 }, (_, i) => `bench product ${i}`);
  const measure = async (server: ServerChild, what: string, requests: () => ReturnType<typeof pushRequests>): Promise<LoadResult[]> => {
    if (ctx.options.warmups > 0) {
      say(`api: ${what}, warm-up ${warm} s`);
      await load(server.url, { seconds: warm, connections, requests: requests() });
    }
    const out: LoadResult[] = [];
    for (let i = 1; i <= ctx.options.runs; i++) {
      const r = await load(server.url, { seconds, connections, requests: requests() });
      say(
        `api: ${what} run ${i}/${ctx.options.runs}: ${fmt(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${r.non2xx || r.errors ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : ''}`,
      );
      out.push(r);
    }
    return out;
  };
  const bare = await startBare();
  let barePush: LoadResult[];
  let bareGet: LoadResult[];
  try {
    barePush = await measure(bare, 'bare node:http POST', () => pushRequests(names));
    bareGet = await measure(bare, 'bare node:http GET', () => statsRequests(names));
  } finally {
    await bare.stop();
  }
  const ns = namespace(ctx);
  // its own fresh database: the api's tables, nothing else in them
  const apiUrl = withDatabase(ctx.config.databaseUrl, `${ctx.pipelineDb}_api`);
  await dropDatabase(apiUrl);
  await ensureDatabase(apiUrl);
  const env = { ...childEnv(ctx.bench, ns), DATABASE_URL: apiUrl };
  say(`api: starting dasy api (namespace ${ns})`);
  const api = await startApi(env);
  const bareRow = (rs: LoadResult[]) =>
    figure(
      'req/s',
      rs.map((r) => r.rps),
    );
  if ('skipped' in api) {
    await dropDatabase(apiUrl).catch(() => undefined);
    say(`api: SKIPPED: ${api.skipped}`);
    ctx.rows.push({ workload: 'api', metric: 'skipped', value: figure('', []), note: api.skipped });
    ctx.rows.push({ workload: 'bare node:http', metric: 'POST req/s', value: bareRow(barePush) });
    ctx.rows.push({ workload: '', metric: 'GET req/s', value: bareRow(bareGet) });
    ctx.results.api = { skipped: api.skipped, bare: { post: barePush, get: bareGet } };
    return;
  }
  let push: LoadResult[];
  let stats: LoadResult[];
  try {
    push = await measure(api, 'POST /api/push', () => pushRequests(names));
    stats = await measure(api, 'GET /api/products/:name/stats', () => statsRequests(names));
  } finally {
    await api.stop();
    await dropNamespace(ctx.bench, ctx.pool, ns).catch(() => undefined);
    await dropDatabase(apiUrl).catch(() => undefined);
  }
  const pushFig = bareRow(push);
  const statsFig = bareRow(stats);
  const bp = bareRow(barePush);
  const bg = bareRow(bareGet);
  const bad = (rs: LoadResult[]) => rs.reduce((a, r) => a + r.non2xx + r.errors, 0);
  ctx.rows.push({
    workload: `api pushes (${connections} connections)`,
    metric: 'req/s',
    value: pushFig,
    floor: bp,
    ratio: round(bp.median / pushFig.median, 2),
    note: `bare node:http POST; ${bad(push)} non-2xx/errors`,
  });
  ctx.rows.push({
    workload: '',
    metric: 'p50 ms',
    value: figure(
      'ms',
      push.map((r) => r.p50),
    ),
    floor: figure(
      'ms',
      barePush.map((r) => r.p50),
    ),
  });
  ctx.rows.push({
    workload: '',
    metric: 'p99 ms',
    value: figure(
      'ms',
      push.map((r) => r.p99),
    ),
    floor: figure(
      'ms',
      barePush.map((r) => r.p99),
    ),
  });
  ctx.rows.push({
    workload: `api GET stats (${connections} connections)`,
    metric: 'req/s',
    value: statsFig,
    floor: bg,
    ratio: round(bg.median / statsFig.median, 2),
    note: `bare node:http GET; ${bad(stats)} non-2xx/errors`,
  });
  ctx.rows.push({
    workload: '',
    metric: 'p99 ms',
    value: figure(
      'ms',
      stats.map((r) => r.p99),
    ),
    floor: figure(
      'ms',
      bareGet.map((r) => r.p99),
    ),
  });
  ctx.results.api = { connections, seconds, push, stats, bare: { post: barePush, get: bareGet } };
}

function formatTable(rows: Row[]): string {
  const header = ['workload', 'figure', 'median', 'min', 'max', 'floor', 'ratio', ''];
  const lines = rows.map((r) => [
    r.workload,
    r.metric + (r.value.unit && !r.metric.includes(r.value.unit) ? ` (${r.value.unit})` : ''),
    fmt(r.value.median),
    r.value.runs.length > 1 ? fmt(r.value.min) : '',
    r.value.runs.length > 1 ? fmt(r.value.max) : '',
    r.floor ? fmt(r.floor.median) : '',
    r.ratio !== undefined && Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : '',
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const fmtLine = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return ['', fmtLine(header), fmtLine(widths.map((w) => '-'.repeat(w))), ...lines.map(fmtLine)].join('\n');
}
