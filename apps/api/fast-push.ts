import { IncomingMessage, ServerResponse } from 'http';
import { Logger } from '../../libs/log';
import { Authorize } from './authorize';
import { BODY_LIMIT, parseJsonBody } from './body';
import { shownError, stoppingError } from './errors';
import { parseIdempotencyKey } from './score-requests';

export interface FastPushDeps {
  log: Logger;
  /** the api is stopping */
  closing: () => boolean;
  authorize: Authorize;
  /** a push, from its parsed body (and Idempotency-Key) to the reply once it is applied */
  push: (body: unknown, idempotencyKey: string | undefined) => Promise<unknown>;
}

/**
 * POST /api/push, the hot route, answered before fastify when the request is a plain one
 * (isPlainPush): fastify's body parsing alone (an AsyncResource per request) costs about as much
 * as a bare node:http request. Returns false for a request it leaves to fastify.
 */
export function fastPushHandler(deps: FastPushDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (!isPlainPush(req)) return false;
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const fail = (err: Error, extra: Record<string, string> = {}) => {
      const { e, headers } = shownError(deps.log, err, 'POST', '/api/push');
      reply(e.statusCode, e.body(), { ...headers, ...extra });
    };
    // As fastify's onRequest hooks: these answer before the body is read.
    if (deps.closing()) {
      fail(stoppingError(), { connection: 'close' });
      return true;
    }
    try {
      deps.authorize(req.headers.authorization);
    } catch (err) {
      fail(err as Error);
      return true;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined); // a client that went away: nobody to answer
    req.on('end', () => {
      let body: unknown;
      let key: string | undefined;
      try {
        body = parseJsonBody(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        key = parseIdempotencyKey(req.headers['idempotency-key']);
      } catch (err) {
        return fail(err as Error); // the body was read to its end: the connection goes on
      }
      deps.push(body, key).then(
        (result) => reply(200, result),
        (err: Error) => fail(err),
      );
    });
    return true;
  };
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
