import { FastifyInstance } from 'fastify';
import { Pool } from 'pg';
import { Guard } from './authorize';
import { PushBatches } from './push-batch';
import { parseIdempotencyKey } from './score-requests';
import { ScoreWrites } from './score-writes';
import { history, sessions, statsReply, windowStats } from './store';
import { ApiError, validateHistory, validateName, validateWindow } from './validate';

export interface ScoreRoutesDeps {
  pool: Pool;
  scores: ScoreWrites;
  batches: PushBatches;
  /** the writes' authorization */
  guard: Guard;
}

/** The scores of DESIGN.md §7: pushes and resets (authorized), statistics, history and sessions. */
export function registerScoreRoutes(app: FastifyInstance, { pool, scores, batches, guard }: ScoreRoutesDeps): void {
  app.post('/api/push', { onRequest: guard }, async (req) => scores.push(req.body, parseIdempotencyKey(req.headers['idempotency-key'])));
  app.post('/api/push/batch', { onRequest: guard }, async (req) => batches.push(req.body, parseIdempotencyKey(req.headers['idempotency-key'])));

  app.get<{ Params: { name: string } }>('/api/products/:name/stats', async (req) => {
    const name = validateName(req.params.name);
    const w = validateWindow(req.query);
    if (!w.from && !w.to) {
      const row = await scores.current(name);
      return { ...statsReply(row.name, row, row.first_at, row.last_at), session: row.session };
    }
    await scores.current(name);
    return windowStats(pool, name, w);
  });

  app.get<{ Params: { name: string } }>('/api/products/:name/history', async (req) => {
    const name = validateName(req.params.name);
    const h = validateHistory(req.query);
    await scores.current(name);
    return {
      name,
      interval: h.interval,
      from: h.from?.toISOString() ?? null,
      to: h.to?.toISOString() ?? null,
      buckets: await history(pool, name, h.interval, h),
    };
  });

  app.post<{ Params: { name: string } }>('/api/products/:name/reset', { onRequest: guard }, async (req) => {
    const name = validateName(req.params.name);
    return scores.reset(name, req.body, parseIdempotencyKey(req.headers['idempotency-key']));
  });

  app.get<{ Params: { name: string } }>('/api/products/:name/sessions', async (req) => {
    const name = validateName(req.params.name);
    const list = await sessions(pool, name);
    if (!list.length) throw new ApiError(404, 'not_found', `no product named ${JSON.stringify(name)} has scores`, 'name');
    return { name, sessions: list };
  });
}
