import { FastifyInstance } from 'fastify';
import { validateSearch } from '../api/validate';
import { DashboardSource } from './source';
import { DASHBOARD_HTML } from './page';

/**
 * The dashboard: `GET /` (one self-contained page: no CDN, works offline), its data
 * (`GET /api/dashboard`, `GET /api/dashboard/names?q=`), and live updates as Server-Sent Events
 * (`GET /api/dashboard/events`, one snapshot a second).
 */
export function registerDashboard(app: FastifyInstance, source: DashboardSource): void {
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_HTML));

  app.get('/api/dashboard', async () => source.snapshot());

  app.get<{ Querystring: { q?: unknown } }>('/api/dashboard/names', async (req) => {
    return { names: await source.searchNames(validateSearch(req.query.q)) };
  });

  const streams = new Set<() => void>();
  // Before close, not on close: server.close() waits for open connections, and a stream never idles.
  app.addHook('preClose', async () => {
    for (const close of streams) close();
  });

  app.get('/api/dashboard/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let closed = false;
    const send = async () => {
      try {
        const snapshot = await source.snapshot();
        if (!closed) res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
      } catch {
        if (!closed) res.write(`event: unavailable\ndata: {}\n\n`);
      }
    };
    const tick = () => void send().catch(() => undefined);
    tick();
    const timer = setInterval(tick, 1000);
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      streams.delete(close);
      res.end();
    };
    streams.add(close);
    req.raw.on('close', close);
  });
}
