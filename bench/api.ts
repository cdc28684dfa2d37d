import { Pool } from 'pg';
import { dropDatabase, ensureDatabase, withSchema } from '../libs/db';
import { withDatabase } from '../libs/config';
import { cpuNote, CpuMeter, LoadCpu, perThousand } from './api-cost';
import { Context, namespace, Row, say } from './context';
import { batchRequests, load, LoadResult, pushRequests, ServerChild, startApi, startBare, statsRequests } from './http';
import { childEnv, dropNamespace } from './pipeline';
import { figure, fmt, round } from './stats';

/** One measured load: its result, the CPU it cost, and how many pushes it applied. */
interface Measured extends LoadResult {
  cpu: LoadCpu;
  pushes: number;
}

type Requests = () => ReturnType<typeof pushRequests>;

/** The batch load: 8 connections, each sending batches of 1,000 pushes. */
const BATCH = { connections: 8, size: 1000 };

/**
 * Pushes and GET stats at 64 connections against `dasy api`, and a bare node:http server alike;
 * batches of 1,000 pushes at 8 connections; the CPU seconds per 1,000 pushes of each process
 * (load generator, api, Kafka, PostgreSQL backends).
 */
export async function apiWorkload(ctx: Context) {
  const seconds = ctx.options.quick ? 2 : 8;
  const warm = ctx.options.quick ? 1 : 3;
  const connections = 64;
  const names = Array.from({ length: 1000 }, (_, i) => `bench product ${i}`);
  /** `pushesOf`: how many pushes a run applied (default: its 2xx answers) */
  const measure = async (
    server: ServerChild,
    meter: CpuMeter,
    what: string,
    requests: Requests,
    conns = connections,
    pushesOf: (during: () => Promise<LoadResult>) => Promise<{ r: LoadResult; pushes: number }> = async (during) => {
      const r = await during();
      return { r, pushes: r.ok };
    },
  ): Promise<Measured[]> => {
    if (ctx.options.warmups > 0) {
      say(`api: ${what}, warm-up ${warm} s`);
      await load(server.url, { seconds: warm, connections: conns, requests: requests() });
    }
    const out: Measured[] = [];
    for (let i = 1; i <= ctx.options.runs; i++) {
      const { result, cpu } = await meter.during(() => pushesOf(() => load(server.url, { seconds, connections: conns, requests: requests() })));
      const m = { ...result.r, cpu, pushes: result.pushes };
      say(
        `api: ${what} run ${i}/${ctx.options.runs}: ${fmt(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms${m.non2xx || m.errors ? `, ${m.non2xx} non-2xx, ${m.errors} errors` : ''}; ` +
          `CPU s per 1,000: ${cpuNote(perThousand(cpu, m.pushes), 'server')}`,
      );
      out.push(m);
    }
    return out;
  };
  const bare = await startBare();
  const bareMeter = new CpuMeter(bare.child.pid!);
  let barePush: Measured[];
  let bareGet: Measured[];
  try {
    barePush = await measure(bare, bareMeter, 'bare node:http POST', () => pushRequests(names));
    bareGet = await measure(bare, bareMeter, 'bare node:http GET', () => statsRequests(names));
  } finally {
    await bareMeter.stop();
    await bare.stop();
  }
  const ns = namespace(ctx);
  // its own fresh database: the api's tables, nothing else in them
  const database = `${ctx.pipelineDb}_api`;
  const apiUrl = withDatabase(ctx.config.databaseUrl, database);
  await dropDatabase(apiUrl);
  await ensureDatabase(apiUrl);
  const env = { ...childEnv(ctx.bench, ns), DATABASE_URL: apiUrl };
  say(`api: starting dasy api (namespace ${ns})`);
  const api = await startApi(env);
  const rps = (rs: Measured[]) =>
    figure(
      'req/s',
      rs.map((r) => r.rps),
    );
  if ('skipped' in api) {
    await dropDatabase(apiUrl).catch(() => undefined);
    say(`api: SKIPPED: ${api.skipped}`);
    ctx.rows.push({ workload: 'api', metric: 'skipped', value: figure('', []), note: api.skipped });
    ctx.rows.push({ workload: 'bare node:http', metric: 'POST req/s', value: rps(barePush) });
    ctx.rows.push({ workload: '', metric: 'GET req/s', value: rps(bareGet) });
    ctx.results.api = { skipped: api.skipped, bare: { post: barePush, get: bareGet } };
    return;
  }
  const meter = new CpuMeter(api.child.pid!, { pool: ctx.pool, database });
  // the namespace's own schema holds its tables
  const apiPool = new Pool({ connectionString: withSchema(apiUrl, ns), max: 1, application_name: 'dasy-bench' });
  let push: Measured[];
  let stats: Measured[];
  let batch: Measured[];
  try {
    push = await measure(api, meter, 'POST /api/push', () => pushRequests(names));
    stats = await measure(api, meter, 'GET /api/products/:name/stats', () => statsRequests(names));
    batch = await measure(
      api,
      meter,
      `POST /api/push/batch (${BATCH.size} pushes, ${BATCH.connections} connections)`,
      () => batchRequests(names, BATCH.size),
      BATCH.connections,
      (during) => appliedDuring(apiPool, during),
    );
  } finally {
    await meter.stop();
    await apiPool.end();
    await api.stop();
    await dropNamespace(ctx.bench, ctx.pool, ns).catch(() => undefined);
    await dropDatabase(apiUrl).catch(() => undefined);
  }
  ctx.rows.push(...pushRows(connections, push, barePush), ...statsRows(connections, stats, bareGet), ...batchRows(batch, seconds));
  ctx.results.api = { connections, seconds, push, stats, batch, bare: { post: barePush, get: bareGet } };
}

/**
 * The pushes a batch load applied: the batches answered × their size, at most what PostgreSQL's
 * statistics grew by (a batch answered 200 may hold a push that failed; one in flight at the end
 * is applied but not counted).
 */
async function appliedDuring(pool: Pool, during: () => Promise<LoadResult>): Promise<{ r: LoadResult; pushes: number }> {
  const count = async () => Number((await pool.query<{ n: string }>('SELECT coalesce(sum(count), 0) AS n FROM score_stats')).rows[0].n);
  const before = await count();
  const r = await during();
  const applied = (await count()) - before;
  return { r, pushes: Math.min(applied, r.ok * BATCH.size) };
}

const ms = (rs: LoadResult[], p: 'p50' | 'p99') =>
  figure(
    'ms',
    rs.map((r) => r[p]),
  );
const bad = (rs: LoadResult[]) => rs.reduce((a, r) => a + r.non2xx + r.errors, 0);

/** CPU seconds per 1,000 requests in all (its median run), each process in the note. */
function cpuRow(workload: string, rs: Measured[], server: string): Row {
  const each = rs.map((r) => perThousand(r.cpu, r.pushes));
  const total = figure(
    'CPU s',
    each.map((c) => c.total),
  );
  const mid = each.find((c) => c.total === total.median) ?? each[each.length >> 1];
  return { workload, metric: 'CPU s / 1,000', value: total, note: mid ? cpuNote(mid, server) : '' };
}

/** Requests per second at `connections`, against the bare server's. */
function rateRow(workload: string, ours: Measured[], bare: Measured[], note: string): Row {
  const value = figure(
    'req/s',
    ours.map((r) => r.rps),
  );
  const floor = figure(
    'req/s',
    bare.map((r) => r.rps),
  );
  return { workload, metric: 'req/s', value, floor, ratio: round(floor.median / value.median, 2), note: `${note}; ${bad(ours)} non-2xx/errors` };
}

function pushRows(connections: number, push: Measured[], barePush: Measured[]): Row[] {
  return [
    rateRow(`api pushes (${connections} connections)`, push, barePush, 'bare node:http POST'),
    { workload: '', metric: 'p50 ms', value: ms(push, 'p50'), floor: ms(barePush, 'p50') },
    { workload: '', metric: 'p99 ms', value: ms(push, 'p99'), floor: ms(barePush, 'p99') },
    cpuRow('', push, 'api'),
    cpuRow('bare node:http POST', barePush, 'bare server'),
  ];
}

function statsRows(connections: number, stats: Measured[], bareGet: Measured[]): Row[] {
  return [
    rateRow(`api GET stats (${connections} connections)`, stats, bareGet, 'bare node:http GET'),
    { workload: '', metric: 'p99 ms', value: ms(stats, 'p99'), floor: ms(bareGet, 'p99') },
  ];
}

function batchRows(batch: Measured[], seconds: number): Row[] {
  const scores = figure(
    'scores/s',
    batch.map((r) => r.pushes / (r.seconds || seconds)),
  );
  return [
    {
      workload: `api batches (${BATCH.size} pushes, ${BATCH.connections} connections)`,
      metric: 'scores/s',
      value: scores,
      note: `applied (PostgreSQL's count); batch p99 ${fmt(ms(batch, 'p99').median)} ms; ${bad(batch)} non-2xx/errors; compare: products consumers' msg/s (stages)`,
    },
    cpuRow('', batch, 'api'),
  ];
}
