import type { ApiApp } from '../api/app';
import { Reply } from '../api/reply';
import { validateSearch } from '../api/validate';
import { DashboardSource } from './source';
import { DASHBOARD_HTML } from './page';

/**
 * The dashboard: `GET /` (one self-contained page: no CDN, works offline), its data
 * (`GET /api/dashboard`, `GET /api/dashboard/names?q=`), and live updates as Server-Sent Events
 * (`GET /api/dashboard/events`, one snapshot a second).
 */
export function registerDashboard(app: ApiApp, source: DashboardSource): void {
  app.get('/', () => new Reply(200, DASHBOARD_HTML, 'text/html; charset=utf-8'));

  app.get('/api/dashboard', async () => source.snapshot());

  app.get('/api/dashboard/names', async ({ query }) => {
    return { names: await source.searchNames(validateSearch(query.q)) };
  });

  const streams = new Set<() => void>();
  // Before close, not on close: server.close() waits for open connections, and a stream never idles.
  app.onStopping(() => {
    for (const close of streams) close();
  });

  app.get(
    '/api/dashboard/events',
    ({ req, res }) => {
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
      req.on('close', close);
    },
    { raw: true },
  );
}
