import { IncomingMessage, Server, ServerResponse } from 'http';
import { ParsedUrlQuery, parse as parseQuery } from 'querystring';
import { Logger } from '../../libs/log';
import { Authorize } from './authorize';
import { shownError, stoppingError } from './errors';
import { ApiHttpServer, createApiHttpServer, HttpTimeouts } from './http-server';
import { send } from './reply';
import { BodyReadError, hasJsonBody, readJsonBody } from './request-body';
import { Router, splitTarget } from './router';
import { ApiError, validateQueryEncoding } from './validate';

/** What a route's handler gets. */
export interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  /** the query string's parameters (a repeated one is an array) */
  query: ParsedUrlQuery;
  /** the parsed JSON body (POST routes), undefined when there is none */
  body: unknown;
}

/** A route's answer: a JSON value (200) or a Reply (reply.ts); a thrown error is answered in the error model. */
export type Handler = (r: ApiRequest) => unknown;

export interface RouteOptions {
  /** the bearer check (authorize.ts), answered before the body is read */
  authorize?: Authorize;
  /** the handler writes its own answer (an event stream): what it returns is not sent */
  raw?: boolean;
}

interface Route extends RouteOptions {
  handle: Handler;
}

/** The api's HTTP layer: its routes on its node:http server (http-server.ts), and its lifecycle. */
export interface ApiApp {
  server: Server;
  get(path: string, handle: Handler, options?: RouteOptions): void;
  post(path: string, handle: Handler, options?: RouteOptions): void;
  /** run when close begins, before the server stops accepting (in order) */
  onStopping(hook: () => void): void;
  /** run once the server closed (every request answered) */
  onClosed(hook: () => Promise<void> | void): void;
  /** run before the server listens */
  onReady(hook: () => void): void;
  listen(port: number, host: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every request in order: its route (router.ts; a malformed path is a 400), then a 503 while
 * stopping, a malformed query string, a 404 for no route, the bearer check, the JSON body
 * (request-body.ts), the handler. Every error is `{"error":{"code","message","field"}}`, details
 * (stacks, causes) in the log; requests in flight at stop get `graceMs` to be answered.
 */
export function createApiApp(log: Logger, timeouts: HttpTimeouts, graceMs: number): ApiApp {
  const router = new Router<Route>();
  const hooks = { stopping: [] as (() => void)[], closed: [] as (() => Promise<void> | void)[], ready: [] as (() => void)[] };
  let closing = false;
  let closed: Promise<void> | undefined;
  const http: ApiHttpServer = createApiHttpServer((req, res) => dispatch(req, res), timeouts);

  const fail = (req: IncomingMessage, res: ServerResponse, err: Error, closeConnection = false) => {
    const { e, headers } = shownError(log, err, req.method ?? '', req.url ?? '');
    // A body that could not be read to its end leaves the framing unknown: the connection closes
    // (http-server.ts lingers). Read to its end, pipelined requests behind it are still answered.
    if (closeConnection || (err instanceof BodyReadError && (closing || !req.complete))) headers.connection = 'close';
    if (!res.headersSent) send(res, e.statusCode, e.body(), headers);
  };

  const run = (route: Route, r: ApiRequest) => {
    let result: unknown;
    try {
      result = route.handle(r);
    } catch (err) {
      return fail(r.req, r.res, err as Error);
    }
    if (route.raw) return;
    Promise.resolve(result).then(
      (value) => send(r.res, 200, value),
      (err: Error) => fail(r.req, r.res, err),
    );
  };

  function dispatch(req: IncomingMessage, res: ServerResponse) {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const target = splitTarget(url);
    let match;
    try {
      match = router.find(method, target.path);
      if (closing) return fail(req, res, stoppingError(), true);
      validateQueryEncoding(url);
      if (!match) throw new ApiError(404, 'not_found', `no route ${method} ${shortPath(url)}`);
      match.route.authorize?.(req.headers.authorization);
      if (method === 'POST' && hasJsonBody(req)) {
        const { route, params } = match;
        return readJsonBody(req, (err, body) => (err ? fail(req, res, err) : run(route, { req, res, params, query: queryOf(target.query), body })));
      }
    } catch (err) {
      return fail(req, res, err as Error);
    }
    run(match.route, { req, res, params: match.params, query: queryOf(target.query), body: undefined });
  }

  const add =
    (method: string) =>
    (path: string, handle: Handler, options: RouteOptions = {}) =>
      router.add(method, path, { handle, ...options });
  return {
    server: http.server,
    get: add('GET'),
    post: add('POST'),
    onStopping: (hook) => hooks.stopping.push(hook),
    onClosed: (hook) => hooks.closed.push(hook),
    onReady: (hook) => hooks.ready.push(hook),
    listen: (port, host) => {
      for (const hook of hooks.ready) hook();
      return new Promise((resolve, reject) => {
        http.server.once('error', reject);
        http.server.listen(port, host, () => {
          http.server.removeListener('error', reject);
          resolve();
        });
      });
    },
    close: () =>
      (closed ??= (async () => {
        // While stopping, a request that still arrives (on a kept-alive connection) gets a 503; those
        // in flight are answered with Connection: close (http-server.ts).
        closing = true;
        http.beginClose(graceMs);
        for (const hook of hooks.stopping) hook();
        if (http.server.listening) await new Promise<void>((resolve) => http.server.close(() => resolve()));
        for (const hook of hooks.closed) await hook();
      })()),
  };
}

const EMPTY_QUERY: ParsedUrlQuery = Object.freeze(Object.create(null) as ParsedUrlQuery);

/** A query string's parameters (no limit on their number: node bounds the URL's size). */
function queryOf(query: string): ParsedUrlQuery {
  return query ? parseQuery(query, '&', '=', { maxKeys: 0 }) : EMPTY_QUERY;
}

/** A request's path for a message: without its query, and not the whole of a long one. */
function shortPath(url: string): string {
  const path = url.split('?')[0];
  return path.length > 100 ? `${path.slice(0, 100)}…` : path;
}
