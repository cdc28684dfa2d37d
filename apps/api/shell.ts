import { IncomingMessage, ServerResponse } from 'http';
import Fastify, { FastifyInstance, FastifyReply } from 'fastify';
import { Logger } from '../../libs/log';
import { BODY_LIMIT, parseJsonBody } from './body';
import { shownError, stoppingError, toApiError } from './errors';
import { ApiHttpServer, createApiHttpServer, HttpTimeouts } from './http-server';
import { ApiError, fromAjvErrors, validateQueryEncoding } from './validate';

/** A request handler that answers before fastify; false leaves the request to fastify. */
export type FirstHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The api's server without its routes: fastify on our node:http server, errors in our format. */
export interface ApiShell {
  app: FastifyInstance;
  /** the api is stopping (fastify's close began) */
  closing: () => boolean;
  /** `handle` sees every request first (the fast push path) */
  answerFirst: (handle: FirstHandler) => void;
}

/**
 * Fastify on the api's node:http server (http-server.ts): only JSON bodies, every error as
 * `{"error":{"code","message","field"}}` (details, stacks and causes, stay in the log), and a stop
 * that answers what still arrives with 503 and gives requests in flight `graceMs` to be answered.
 */
export function createApiShell(log: Logger, timeouts: HttpTimeouts, graceMs: number): ApiShell {
  let first: FirstHandler | undefined = undefined;
  let fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const http = createApiHttpServer((req, res) => {
    if (!first?.(req, res)) fastifyHandler(req, res);
  }, timeouts);
  const app = createFastify(http, (handler) => {
    fastifyHandler = handler;
  });
  // While stopping, a request that still arrives (on a kept-alive connection) gets a 503; those
  // in flight are answered with Connection: close (http-server.ts).
  let closing = false;
  acceptJsonOnly(app);
  answerErrors(app, log, () => closing);
  app.addHook('preClose', (done) => {
    closing = true;
    http.beginClose(graceMs);
    done();
  });
  app.addHook('onRequest', (req, reply, done) => {
    if (!closing) {
      try {
        validateQueryEncoding(req.url);
      } catch (err) {
        return done(err as Error);
      }
      return done();
    }
    reply.header('connection', 'close');
    done(stoppingError());
  });
  return {
    app,
    closing: () => closing,
    answerFirst: (handle) => {
      first = handle;
    },
  };
}

function createFastify(http: ApiHttpServer, setHandler: (handler: (req: IncomingMessage, res: ServerResponse) => void) => void): FastifyInstance {
  return Fastify({
    logger: false,
    serverFactory: (handler) => {
      setHandler(handler);
      return http.server;
    },
    clientErrorHandler: (err, socket) => http.onClientError(err, socket),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: false, // answered by the onRequest hook, in our format
    forceCloseConnections: 'idle',
    // No parameter is too long for the router: a name is validated (too_long on name), and node
    // bounds the whole URL (431 beyond its header size, 16 KiB).
    routerOptions: { maxParamLength: 1024 * 1024 },
    schemaErrorFormatter: (errors, dataVar) => fromAjvErrors(errors, dataVar),
    // Errors fastify raises before routing (a malformed URL): our format too.
    frameworkErrors: (err, _req, reply) => {
      const e = err.code === 'FST_ERR_BAD_URL' ? new ApiError(400, 'bad_url', 'the URL is not valid (malformed percent-encoding)') : toApiError(err);
      void (reply as FastifyReply).code(e.statusCode).send(e.body());
    },
  });
}

/** Only JSON bodies. An empty body is "no body" (a reset needs none). */
function acceptJsonOnly(app: FastifyInstance) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(typeof body === 'string' ? Buffer.from(body) : body));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

function answerErrors(app: FastifyInstance, log: Logger, closing: () => boolean) {
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const { e, headers } = shownError(log, err, req.method, req.url);
    // fastify closes the connection after any body it could not parse; when the body was read to
    // its end the framing is intact, and closing would lose the answers to pipelined requests.
    if (!closing() && req.raw.complete) reply.removeHeader('connection');
    void reply.code(e.statusCode).headers(headers).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(new ApiError(404, 'not_found', `no route ${req.method} ${shortPath(req.url)}`).body());
  });
}

/** A request's path for a message: without its query, and not the whole of a long one. */
function shortPath(url: string): string {
  const path = url.split('?')[0];
  return path.length > 100 ? `${path.slice(0, 100)}…` : path;
}
