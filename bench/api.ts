import { dropDatabase, ensureDatabase } from '../libs/db';
import { withDatabase } from '../libs/config';
import { Context, namespace, say } from './context';
import { load, LoadResult, pushRequests, ServerChild, startApi, startBare, statsRequests } from './http';
import { childEnv, dropNamespace } from './pipeline';
import { figure, fmt, round } from './stats';

/** Pushes and GET stats at 64 connections against `dasy api`, and a bare node:http server alike. */
export async function apiWorkload(ctx: Context) {
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
