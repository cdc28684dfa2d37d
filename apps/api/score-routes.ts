import { Pool } from 'pg';
import { ApiApp } from './app';
import { Authorize } from './authorize';
import { PushBatches } from './push-batch';
import { parseIdempotencyKey } from './score-requests';
import { ScoreWrites } from './score-writes';
import { StatsBodies } from './stats-body';
import { history, sessions, windowStats } from './store';
import { ApiError, validateHistory, validateName, validateWindow } from './validate';

export interface ScoreRoutesDeps {
  pool: Pool;
  scores: ScoreWrites;
  batches: PushBatches;
  /** the writes' authorization */
  authorize: Authorize;
}

/** The scores of DESIGN.md §7: pushes and resets (authorized), statistics, history and sessions. */
export function registerScoreRoutes(app: ApiApp, { pool, scores, batches, authorize }: ScoreRoutesDeps): void {
  const bodies = new StatsBodies();
  // the hot route: one parse of the key, then the push
  app.post('/api/push', ({ req, body }) => scores.push(body, parseIdempotencyKey(req.headers['idempotency-key'])), { authorize });
  app.post('/api/push/batch', ({ req, body }) => batches.push(body, parseIdempotencyKey(req.headers['idempotency-key'])), { authorize });

  app.get('/api/products/:name/stats', async ({ params, query }) => {
    const name = validateName(params.name);
    const w = validateWindow(query);
    if (!w.from && !w.to) return bodies.of(await scores.currentText(name));
    await scores.current(name);
    return windowStats(pool, name, w);
  });

  app.get('/api/products/:name/history', async ({ params, query }) => {
    const name = validateName(params.name);
    const h = validateHistory(query);
    await scores.current(name);
    return {
      name,
      interval: h.interval,
      from: h.from?.toISOString() ?? null,
      to: h.to?.toISOString() ?? null,
      buckets: await history(pool, name, h.interval, h),
    };
  });

  app.post(
    '/api/products/:name/reset',
    async ({ req, params, body }) => {
      const name = validateName(params.name);
      return scores.reset(name, body, parseIdempotencyKey(req.headers['idempotency-key']));
    },
    { authorize },
  );

  app.get('/api/products/:name/sessions', async ({ params }) => {
    const name = validateName(params.name);
    const list = await sessions(pool, name);
    if (!list.length) throw new ApiError(404, 'not_found', `no product named ${JSON.stringify(name)} has scores`, 'name');
    return { name, sessions: list };
  });
}
