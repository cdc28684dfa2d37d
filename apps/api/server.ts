import { createHash, timingSafeEqual } from 'crypto';
import { IncomingMessage, ServerResponse } from 'http';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Pool } from 'pg';
import { isRetriable } from '../../libs/errors/classify';
import { DasyError, errorMessage, UnavailableError } from '../../libs/errors';
import { Logger } from '../../libs/log';
import { view } from '../../libs/stats';
import { AppliedTracker, NotAppliedError, Outcome } from './applied';
import { parseJsonBody } from './body';
import { registerCatalog } from './catalog';
import { createApiHttpServer, HttpTimeouts } from './http-server';
import { encode } from './messages';
import { EventProducer, Placement } from './producer';
import { adStatistics, CurrentStats, endedSession, history, includesPush, sessionOfPush, sessions, StatsReader, statsReply, windowStats } from './store';
import {
  AdRequest,
  ApiError,
  fromAjvErrors,
  validateAdRequest,
  validateHistory,
  validateName,
  validatePush,
  validateQueryEncoding,
  validateReset,
  validateStatistics,
  validateWindow,
} from './validate';
import { fetchUpstreamVast, SAMPLE_VAST } from './vast';

export const BODY_LIMIT = 1024 * 1024;

export interface ApiDeps {
  pool: Pool;
  producer: EventProducer;
  tracker: AppliedTracker;
  logger: Logger;
  topics: { scores: string; adEvents: string };
  apiToken?: string;
  adUpstreamUrl?: string;
  /** how long a push (or reset) waits to be applied before answering 503 */
  pushTimeoutMs?: number;
  upstreamTimeoutMs?: number;
  /** whether this process runs the consumers (shown by /healthz) */
  consumers?: boolean;
  /** how long slow clients may take (libs/config: DASY_API_*_TIMEOUT_MS) */
  timeouts: HttpTimeouts;
}

/**
 * The HTTP api of DESIGN.md §7. Every error reaches the client as
 * `{"error":{"code","message","field"}}`; details (stacks, causes) stay in the log.
 */
export function buildServer(deps: ApiDeps): FastifyInstance {
  const log = deps.logger.namespace('api');
  const pushTimeoutMs = deps.pushTimeoutMs ?? 5000;
  const upstreamTimeoutMs = deps.upstreamTimeoutMs ?? 2000;
  const stats = new StatsReader(deps.pool);

  // POST /api/push, the hot route, is answered before fastify when the request is a plain one
  // (see fastPush): fastify's body parsing alone (an AsyncResource per request) costs about as much
  // as a bare node:http request. Everything else, and every unusual push, goes through fastify.
  let fastPush: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined = undefined;
  let fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const http = createApiHttpServer((req, res) => {
    if (!fastPush?.(req, res)) fastifyHandler(req, res);
  }, deps.timeouts);
  const app = Fastify({
    logger: false,
    serverFactory: (handler) => {
      fastifyHandler = handler;
      return http.server;
    },
    clientErrorHandler: (err, socket) => http.onClientError(err, socket),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: false, // answered below, in our format
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

  // Only JSON bodies. An empty body is "no body" (a reset needs none).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(typeof body === 'string' ? Buffer.from(body) : body));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  /** The error a client sees and its headers, logged when it is ours (500) or an outage. */
  const shown = (err: Error & { statusCode?: number; code?: string }, method: string, url: string): { e: ApiError; headers: Record<string, string> } => {
    const e = toApiError(err);
    if (e.code === 'internal') {
      log.error(`${method} ${url}: ${errorMessage(err)}`, { stack: err.stack, cause: (err as DasyError).cause });
    } else if (e.code === 'unavailable' && !(err instanceof ApiError)) {
      log.warn(`${method} ${url.split('?')[0]}: ${errorMessage(err)}`);
    }
    const headers: Record<string, string> = {};
    if (e.statusCode === 401) headers['www-authenticate'] = 'Bearer';
    if (e.statusCode === 503) headers['retry-after'] = '1';
    return { e, headers };
  };

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const { e, headers } = shown(err, req.method, req.url);
    // fastify closes the connection after any body it could not parse; when the body was read to
    // its end the framing is intact, and closing would lose the answers to pipelined requests.
    if (!closing && req.raw.complete) reply.removeHeader('connection');
    void reply.code(e.statusCode).headers(headers).send(e.body());
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(new ApiError(404, 'not_found', `no route ${req.method} ${shortPath(req.url)}`).body());
  });

  // While stopping, a request that still arrives (on a kept-alive connection) gets a 503; those
  // in flight are answered with Connection: close (http-server.ts).
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    http.beginClose(pushTimeoutMs + upstreamTimeoutMs);
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

  const expected = deps.apiToken ? digest(deps.apiToken) : undefined;
  const authorize = (authorization: string | undefined) => {
    if (!expected) return;
    const m = /^Bearer (.+)$/i.exec(authorization ?? '');
    if (!m) throw new ApiError(401, 'unauthorized', 'this endpoint needs Authorization: Bearer <DASY_API_TOKEN>', 'authorization');
    if (!timingSafeEqual(digest(m[1].trim()), expected)) throw new ApiError(401, 'unauthorized', 'the bearer token is not valid', 'authorization');
  };
  const guard = (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    try {
      authorize(req.headers.authorization);
    } catch (err) {
      return done(err as Error);
    }
    done();
  };

  let kafkaDown = false;

  /** Send one event; answers 503 when Kafka has not acknowledged it by the deadline. */
  async function produce(topic: string, key: string, value: Buffer, deadline: number): Promise<Placement> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ApiError(503, 'unavailable', `Kafka did not acknowledge the event within ${pushTimeoutMs / 1000} s; it may still be recorded`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      const placement = await Promise.race([deps.producer.send(topic, key, value), late]);
      if (kafkaDown) {
        kafkaDown = false;
        log.warn('Kafka acknowledges again');
      }
      return placement;
    } catch (err) {
      if (!kafkaDown) log.warn(`Kafka does not acknowledge (${errorMessage(err)}); answering 503 until it does`);
      kafkaDown = true;
      if (err instanceof ApiError) throw err;
      throw new ApiError(503, 'unavailable', 'the event could not be written to Kafka; it may not have been recorded, retry later');
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Read-your-writes: wait until the scores consumer group applied the message at `p`; the
   * current statistics of `name` when the applying batch handed them over. A message it could not
   * apply (dead-lettered) is a 500: it was accepted but will never be in the statistics.
   */
  async function applied(p: Placement, what: 'push' | 'reset', deadline: number, name?: string): Promise<CurrentStats | undefined> {
    let outcome: Outcome;
    try {
      outcome = await deps.tracker.waitApplied(p.partition, p.offset, Math.max(1, deadline - Date.now()), name);
    } catch (err) {
      if (!(err instanceof NotAppliedError)) throw err;
      throw new ApiError(
        503,
        'not_applied',
        `the ${what} was accepted (${p.topic}[${p.partition}]@${p.offset}) but not applied within ${pushTimeoutMs / 1000} s; ` +
          `it will be applied when the scores consumer catches up`,
      );
    }
    const reason =
      outcome.kind === 'dead-lettered' ? outcome.reason : outcome.kind === 'passed' ? await deps.tracker.deadLetterOf(p.partition, p.offset) : undefined;
    if (reason !== undefined) {
      log.warn(`${what} ${p.topic}[${p.partition}]@${p.offset} was dead-lettered: ${reason}`);
      throw new ApiError(
        500,
        'dead_lettered',
        `the ${what} was accepted (${p.topic}[${p.partition}]@${p.offset}) but the scores consumer could not apply it; ` +
          `it is in ${p.topic}.dlq with the reason and is not in the statistics`,
      );
    }
    return outcome.kind === 'applied' ? outcome.stats : undefined;
  }

  async function current(name: string) {
    const row = await stats.load(name);
    if (!row) throw new ApiError(404, 'not_found', `no product named ${JSON.stringify(name)} has scores`, 'name');
    return row;
  }

  app.get('/healthz', () => Promise.resolve({ status: 'ok', consumers: deps.consumers ?? false, listening: deps.tracker.listening() }));

  /** A push, from its parsed body to the reply once it is applied. */
  async function push(body: unknown) {
    const push = validatePush(body);
    const at = Date.now();
    const deadline = at + pushTimeoutMs;
    const p = await produce(deps.topics.scores, push.name, encode({ type: 'push', ...push, at }), deadline);
    const snapshot = await applied(p, 'push', deadline, push.name);
    const row = snapshot && includesPush(snapshot, p.offset) ? snapshot : await current(push.name);
    if (includesPush(row, p.offset)) return { name: row.name, ...view(row) };
    // A reset applied after this push ended its session: answer with that session.
    const ended = await sessionOfPush(deps.pool, push.name, p.partition, p.offset);
    if (!ended) throw new ApiError(503, 'not_applied', 'the push was applied but its session could not be read; retry the read');
    return { name: push.name, ...ended };
  }

  app.post('/api/push', { onRequest: guard }, async (req) => push(req.body));

  fastPush = (req, res) => {
    if (!isPlainPush(req)) return false;
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const fail = (err: Error, extra: Record<string, string> = {}) => {
      const { e, headers } = shown(err, 'POST', '/api/push');
      reply(e.statusCode, e.body(), { ...headers, ...extra });
    };
    // As fastify's onRequest hooks: these answer before the body is read.
    if (closing) {
      fail(stoppingError(), { connection: 'close' });
      return true;
    }
    try {
      authorize(req.headers.authorization);
    } catch (err) {
      fail(err as Error);
      return true;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined); // a client that went away: nobody to answer
    req.on('end', () => {
      let body: unknown;
      try {
        body = parseJsonBody(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      } catch (err) {
        return fail(err as Error); // the body was read to its end: the connection goes on
      }
      push(body).then(
        (result) => reply(200, result),
        (err: Error) => fail(err),
      );
    });
    return true;
  };

  app.get<{ Params: { name: string } }>('/api/products/:name/stats', async (req) => {
    const name = validateName(req.params.name);
    const w = validateWindow(req.query);
    if (!w.from && !w.to) {
      const row = await current(name);
      return { ...statsReply(row.name, row, row.first_at, row.last_at), session: row.session };
    }
    await current(name);
    return windowStats(deps.pool, name, w);
  });

  app.get<{ Params: { name: string } }>('/api/products/:name/history', async (req) => {
    const name = validateName(req.params.name);
    const h = validateHistory(req.query);
    await current(name);
    return {
      name,
      interval: h.interval,
      from: h.from?.toISOString() ?? null,
      to: h.to?.toISOString() ?? null,
      buckets: await history(deps.pool, name, h.interval, h),
    };
  });

  app.post<{ Params: { name: string } }>('/api/products/:name/reset', { onRequest: guard }, async (req) => {
    const name = validateName(req.params.name);
    const { username } = validateReset(req.body);
    await current(name);
    const at = Date.now();
    const deadline = at + pushTimeoutMs;
    const p = await produce(deps.topics.scores, name, encode({ type: 'reset', name, username, at }), deadline);
    await applied(p, 'reset', deadline);
    const ended = await endedSession(deps.pool, name, p.partition, p.offset, at);
    if (!ended) throw new ApiError(404, 'not_found', `no product named ${JSON.stringify(name)} has scores`, 'name');
    const now = await current(name);
    return { name, session: now.session, ended };
  });

  app.get<{ Params: { name: string } }>('/api/products/:name/sessions', async (req) => {
    const name = validateName(req.params.name);
    const list = await sessions(deps.pool, name);
    if (!list.length) throw new ApiError(404, 'not_found', `no product named ${JSON.stringify(name)} has scores`, 'name');
    return { name, sessions: list };
  });

  async function adEvent(type: 'ad' | 'impression', q: AdRequest) {
    const at = Date.now();
    return produce(deps.topics.adEvents, q.username, encode({ type, ...q, at }), at + pushTimeoutMs);
  }

  app.get('/ad', async (req, reply: FastifyReply) => {
    const q = validateAdRequest(req.query);
    // Count the request and ask the upstream at the same time; an upstream failure is still an
    // ad request (an unfilled one), so it counts.
    const [counted, vast] = await Promise.allSettled([
      adEvent('ad', q),
      deps.adUpstreamUrl ? fetchUpstreamVast(deps.adUpstreamUrl, upstreamTimeoutMs) : Promise.resolve(undefined),
    ]);
    if (counted.status === 'rejected') throw counted.reason;
    if (vast.status === 'rejected') throw vast.reason;
    if (!vast.value) return reply.type('application/xml; charset=utf-8').send(SAMPLE_VAST);
    return reply.type(vast.value.contentType).send(vast.value.body);
  });

  app.get('/impression', async (req) => {
    await adEvent('impression', validateAdRequest(req.query));
    return { status: 'ok' };
  });

  app.get('/statistics', async (req) => {
    const f = validateStatistics(req.query);
    return adStatistics(deps.pool, f.filter, f.value);
  });

  registerCatalog(app, deps.pool);

  return app;
}

/**
 * A push the fast path answers exactly as fastify would: `application/json` (optionally with
 * charset=utf-8), a Content-Length within the limit, no Transfer-Encoding. Anything else (413, 415,
 * chunked bodies, odd media types) is left to fastify, whose answers the e2e tests pin down.
 */
export function isPlainPush(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>): boolean {
  if (req.method !== 'POST' || req.url !== '/api/push') return false;
  const type = req.headers['content-type'];
  if (type === undefined || !PLAIN_JSON.test(type)) return false;
  const length = req.headers['content-length'];
  if (length === undefined || req.headers['transfer-encoding'] !== undefined || !/^\d{1,7}$/.test(length)) return false;
  return Number(length) <= BODY_LIMIT;
}

const PLAIN_JSON = /^application\/json(?:\s*;\s*charset="?utf-8"?)?$/i;

const stoppingError = () => new ApiError(503, 'unavailable', 'the api is stopping; retry');

/** A request's path for a message: without its query, and not the whole of a long one. */
function shortPath(url: string): string {
  const path = url.split('?')[0];
  return path.length > 100 ? `${path.slice(0, 100)}…` : path;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Whatever went wrong, as the error a client may see. */
export function toApiError(err: Error & { statusCode?: number; code?: string; validation?: unknown }): ApiError {
  if (err instanceof ApiError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'payload_too_large', `the request body is larger than 1 MiB (${BODY_LIMIT} bytes)`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'send the body as JSON with Content-Type: application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'invalid_body', 'Content-Length does not match the body');
  }
  if (err instanceof UnavailableError || isRetriable(err)) {
    return new ApiError(503, 'unavailable', 'a backing service (PostgreSQL or Kafka) is unavailable; retry later');
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    // fastify's own client errors (malformed request...): their messages are safe to show.
    return new ApiError(err.statusCode, 'bad_request', err.message);
  }
  return new ApiError(500, 'internal', 'internal error');
}
