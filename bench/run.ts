import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pool } from 'pg';
import { databaseName, DasyConfig, withDatabase } from '../libs/config';
import { dropDatabase, ensureDatabase } from '../libs/db';
import { runMigrations } from '../libs/db/migrate';
import { Logger } from '../libs/log';
import { apiWorkload } from './api';
import { Context, Options, say } from './context';
import { SAME_SCHEMA_FLOOR_SCHEMA } from './floor';
import { datasetWorkload } from './datasets';
import { ingestWorkload } from './ingest';
import { CLI, liveChildren } from './pipeline';
import { procAvailable } from './proc';
import { stagesWorkload } from './stages';
import { round } from './stats';
import { formatTable } from './table';

export type { Options } from './context';

/**
 * The benchmarks behind `dasy bench`. They run in their own databases (`<db>_bench`;
 * `<db>_bench_floor`, the strict floor's scratch database; `<db>_bench_floor_same`, the
 * same-schema reference, migrated here) and namespaces (`<ns>-bench-...`, each with its own schema,
 * both deleted after each run): they never touch anyone's data.
 */

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
  const sameSchemaDb = `${base}_bench_floor_same`;
  const pipelineUrl = withDatabase(config.databaseUrl, pipelineDb);
  // Fresh databases at every run: a schema left by an older version of a migration cannot skew
  // (or break) the figures. The strict floor's gets its tables from the floor itself; the
  // pipeline's namespaces are migrated one by one, each in its own schema (migrateNamespace).
  for (const db of [pipelineDb, floorDb, sameSchemaDb]) {
    const url = withDatabase(config.databaseUrl, db);
    await dropDatabase(url);
    await ensureDatabase(url);
    if (db === sameSchemaDb) await runMigrations(url, SAME_SCHEMA_FLOOR_SCHEMA);
  }
  const ctx: Context = {
    config,
    logger,
    options,
    bench: { databaseUrl: pipelineUrl, kafkaBrokers: config.kafkaBrokers, logger: logger.namespace('bench') },
    pipelineDb,
    floorDb,
    sameSchemaDb,
    pool: new Pool({ connectionString: pipelineUrl, max: 3, application_name: 'dasy-bench' }),
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
    `${options.quick ? 'quick' : 'full'} run: ${options.only.join(', ')}; ${options.runs} measured run(s) after a warm-up; databases ${pipelineDb}, ${floorDb} (strict floor) and ${sameSchemaDb}`,
  );
  const load0 = os.loadavg();
  try {
    if (options.only.includes('ingest')) await ingestWorkload(ctx, rows, true);
    if (options.only.includes('scale')) await ingestWorkload(ctx, scaleRows, false);
    if (options.only.includes('stages')) await stagesWorkload(ctx, rows);
    if (options.only.includes('dataset')) await datasetWorkload(ctx, rows);
    if (options.only.includes('api')) await apiWorkload(ctx);
  } finally {
    stopChildren();
    await ctx.pool.end().catch(() => undefined);
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
