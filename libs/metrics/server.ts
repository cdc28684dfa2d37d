import { createServer, IncomingMessage, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { Registry } from 'prom-client';
import { DasyError, errorMessage } from '../errors';
import { Logger } from '../log';
import { Readiness } from './health';

/** What an operations endpoint serves: the metrics, liveness and readiness. */
export interface Ops {
  registry: Registry;
  /** /readyz: its checks, run at each request */
  ready(): Promise<Readiness>;
  /** /healthz: what it says besides {"status":"ok"} (liveness: the process runs and answers) */
  live?(): Record<string, unknown>;
}

/** The three answers, whatever serves them (this server, or the api's routes: apps/api/ops.ts). */
export const opsAnswers = {
  async metrics(ops: Ops): Promise<{ status: number; type: string; body: string }> {
    return { status: 200, type: ops.registry.contentType, body: await ops.registry.metrics() };
  },
  healthz(ops: Ops): { status: number; body: Record<string, unknown> } {
    return { status: 200, body: { status: 'ok', ...ops.live?.() } };
  },
  async readyz(ops: Ops): Promise<{ status: number; body: Readiness }> {
    const r = await ops.ready();
    return { status: r.status === 'ready' ? 200 : 503, body: r };
  },
};

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * A small HTTP server for a part's operations endpoints (`--metrics-port`, `dasy metrics`):
 * GET /metrics (Prometheus text format), /healthz, /readyz. Anything else is a 404 or 405 in the
 * api's error format.
 */
export async function serveOps(ops: Ops, options: { port: number; host: string; logger: Logger }): Promise<OpsServer> {
  const log = options.logger.namespace('metrics');
  const server = createServer((req, res) => {
    answer(ops, req, res).catch((err) => {
      log.error(`GET ${req.url}: ${errorMessage(err)}`);
      send(res, 500, 'application/json', errorBody('internal', 'internal error'));
    });
  });
  server.keepAliveTimeout = 65_000; // longer than a scraper's idle connection
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new DasyError(`cannot serve metrics on ${options.host}:${options.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(ops: Ops, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? '/').split('?')[0];
  const known = path === '/metrics' || path === '/healthz' || path === '/readyz';
  if (!known) return send(res, 404, 'application/json', errorBody('not_found', `no route ${req.method} ${path}`));
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'application/json', errorBody('method_not_allowed', `${path} answers GET only`));
  if (path === '/metrics') {
    const m = await opsAnswers.metrics(ops);
    return send(res, m.status, m.type, m.body);
  }
  const r = path === '/healthz' ? opsAnswers.healthz(ops) : await opsAnswers.readyz(ops);
  send(res, r.status, 'application/json; charset=utf-8', JSON.stringify(r.body));
}

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const errorBody = (code: string, message: string) => JSON.stringify({ error: { code, message, field: null } });
