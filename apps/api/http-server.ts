import * as http from 'http';
import { Duplex } from 'stream';
import { lingeringClose } from './lingering-close';
import { ApiError } from './validate';

/** How long a client may take (libs/config: DASY_API_*_TIMEOUT_MS); headersMs ≤ requestMs. */
export interface HttpTimeouts {
  /** to send the request line and headers */
  headersMs: number;
  /** to send the whole request, body included */
  requestMs: number;
  /** an idle keep-alive connection is closed after this */
  keepAliveMs: number;
}

/** A request dispatched on a connection, until its response is finished or abandoned. */
interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
}

interface ConnectionState {
  open: Set<Exchange>;
  /** the connection failed (unparseable bytes, a timeout, CONNECT): it ends after the open exchanges */
  failed: boolean;
  /** what to do once no complete request waits for its response */
  afterOpen?: () => void;
  /** a request answered before its body arrived (401, 415...): a later error is about that body */
  answeredEarly?: http.IncomingMessage;
}

export interface ApiHttpServer {
  server: http.Server;
  /**
   * Stop: idle connections close now, each busy one after its last response (which says
   * `Connection: close`), whatever remains after `graceMs`.
   */
  beginClose(graceMs: number): void;
}

/**
 * The api's node:http server, as a careful HTTP/1.1 server behaves with hostile or unlucky clients:
 * - pipelined requests are answered in order, and a connection is closed only when its framing
 *   is lost (unparseable bytes): then after the requests already received are answered, never
 *   before (a request that was applied always gets its answer);
 * - every answer node would give on its own (400, 408, 417, 431, a missing Host) is in the error
 *   model `{"error":{"code","message","field"}}`;
 * - headers, request and keep-alive timeouts bound how long a slow client holds a connection;
 * - a connection closed before its request's body was read (413, 431, 400...) closes lingering
 *   (lingering-close.ts), so a client still sending its body reads the answer;
 * - at stop, requests in flight are answered with `Connection: close` and idle connections closed.
 */
export function createApiHttpServer(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void, timeouts: HttpTimeouts): ApiHttpServer {
  let closing = false;
  const states = new WeakMap<Duplex, ConnectionState>();
  /** connections closing after an early answer: what they still carry is read and thrown away */
  const lingering = new WeakSet<Duplex>();
  const linger = (socket: Duplex) => {
    lingering.add(socket);
    lingeringClose(socket);
  };
  const stateOf = (socket: Duplex) => {
    let s = states.get(socket);
    if (!s) states.set(socket, (s = { open: new Set(), failed: false }));
    return s;
  };

  class Response extends http.ServerResponse {
    override writeHead(...args: unknown[]): this {
      // While stopping, a connection's last response closes it; one with requests queued behind
      // it keeps it open for them (closing would lose their answers).
      if (closing && stateOf(this.req.socket).open.size <= 1) this.shouldKeepAlive = false;
      const written = (super.writeHead as (...a: unknown[]) => this)(...args);
      // An answer before the body was read, on a connection it closes (node's _last: no
      // keep-alive, or a Connection: close header): node would destroy the socket once the answer
      // is flushed (destroySoon), with the body's bytes unread.
      const socket = this.req.socket;
      if (!this.req.complete && (this as unknown as { _last: boolean })._last && socket) {
        lingering.add(socket);
        socket.destroySoon = () => linger(socket);
      }
      return written;
    }
  }

  /** Whether the connection has a request fully received and not yet answered. */
  const waitsForAnswer = (state: ConnectionState) => [...state.open].some((x) => x.req.complete);

  const settle = (socket: Duplex, state: ConnectionState) => {
    if (state.afterOpen && !waitsForAnswer(state)) {
      const next = state.afterOpen;
      state.afterOpen = undefined;
      next();
    }
    if (closing && state.open.size === 0 && !socket.destroyed) endConnection(socket);
  };

  const track = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const state = stateOf(req.socket);
    const exchange = { req, res };
    state.open.add(exchange);
    res.once('close', () => {
      state.open.delete(exchange);
      if (!req.complete) state.answeredEarly = req;
      settle(req.socket, state);
    });
  };

  const server = http.createServer(
    {
      ServerResponse: Response,
      requireHostHeader: false, // checked below, answered in our format
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      // how often node checks the headers and request timeouts (its default, 30 s, would let a
      // slow client overstay them by that much)
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headersMs / 2))),
    },
    (req, res) => {
      // bytes a lingering connection still carries are not requests (its last answer said close)
      if (lingering.has(req.socket)) return void req.resume();
      track(req, res);
      if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && req.headers.host === undefined) {
        return sendError(res, new ApiError(400, 'missing', 'an HTTP/1.1 request needs a Host header', 'host'));
      }
      handle(req, res);
    },
  );
  server.setTimeout(0); // no inactivity timeout while a request is handled (a push waits to be applied)
  // A client that half-closes its side after its requests still reads the answers: node's default
  // would abort the requests in flight (and a push could be applied unanswered).
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;

  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    track(req, res);
    sendError(res, new ApiError(417, 'expectation_failed', 'the only Expect this server meets is 100-continue', 'expect'));
  });

  /** Answer `e` on a connection that cannot go on, once the requests it already carried are answered. */
  const failConnection = (socket: Duplex, e: ApiError | undefined) => {
    const state = stateOf(socket);
    if (state.failed) return;
    state.failed = true;
    state.afterOpen = () => {
      if (e && socket.writable) socket.write(rawErrorResponse(e));
      // the client may still be sending what node could not parse (a 2 MiB body behind a 431)
      linger(socket);
    };
    settle(socket, state);
  };

  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    failConnection(socket, new ApiError(405, 'method_not_allowed', 'CONNECT is not supported'));
  });

  // node's protocol errors and timeouts, in the error model
  server.on('clientError', (err: Error & { code?: string; reason?: string }, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const state = stateOf(socket);
    // the body of a request that was already answered (say a 401 before its body): no second answer
    if (state.answeredEarly && !state.answeredEarly.complete) return failConnection(socket, undefined);
    failConnection(socket, clientErrorOf(err));
  });

  return {
    server,
    beginClose(graceMs) {
      if (closing) return;
      closing = true;
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      timer.unref();
      server.once('close', () => clearTimeout(timer));
    },
  };
}

/** End a connection once what was written is flushed. */
function endConnection(socket: Duplex) {
  socket.end();
  socket.once('finish', () => socket.destroy());
}

/** Node's protocol errors and timeouts (its clientError event) as what the client is told; undefined: nothing. */
export function clientErrorOf(err: Error & { code?: string; reason?: string }): ApiError | undefined {
  const detail = err.reason ? `: ${err.reason}` : '';
  switch (err.code) {
    case 'HPE_CLOSED_CONNECTION':
      // bytes after a request that asked to close the connection: it closes after that answer
      return undefined;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(408, 'request_timeout', 'the request (headers or body) did not arrive in time');
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(431, 'headers_too_large', `the request line and headers are larger than ${http.maxHeaderSize} bytes`);
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return new ApiError(400, 'malformed_request', `Content-Length is not valid${detail}`, 'content-length');
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new ApiError(400, 'malformed_request', `the chunked body is not valid${detail}`, 'transfer-encoding');
    default:
      return new ApiError(400, 'malformed_request', `the request is not valid HTTP/1.1${detail}`);
  }
}

function rawErrorResponse(e: ApiError): string {
  const body = JSON.stringify(e.body());
  return (
    `HTTP/1.1 ${e.statusCode} ${http.STATUS_CODES[e.statusCode] ?? 'Error'}\r\n` +
    `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function sendError(res: http.ServerResponse, e: ApiError) {
  const body = JSON.stringify(e.body());
  res.writeHead(e.statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
