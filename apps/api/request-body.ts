import { IncomingMessage } from 'http';
import { BODY_LIMIT, parseJsonBody } from './body';
import { ApiError } from './validate';

/** A body that could not be read: the connection closes after its answer unless the body was read to its end. */
export class BodyReadError extends ApiError {}

export const tooLargeError = () => new BodyReadError(413, 'payload_too_large', `the request body is larger than 1 MiB (${BODY_LIMIT} bytes)`);
export const unsupportedMediaTypeError = () => new ApiError(415, 'unsupported_media_type', 'send the body as JSON with Content-Type: application/json');

/**
 * Whether a request carries a body to read, and whether it may: no Content-Type with no length and
 * no Transfer-Encoding (or a length of 0) is no body; any other body must be `application/json`
 * (any parameters, any case), or it is a 415 answered before it is read.
 */
export function hasJsonBody(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (type === undefined) {
    const length = req.headers['content-length'];
    if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return false;
    throw unsupportedMediaTypeError();
  }
  if (!isJsonType(type)) throw unsupportedMediaTypeError();
  return true;
}

/** `application/json`, alone or followed by `;` or a space (its parameters are not checked). */
export function isJsonType(type: string): boolean {
  const head = type.slice(0, 17).toLowerCase();
  return head.startsWith('application/json') && (head.length === 16 || head[16] === ';' || head[16] === ' ');
}

/**
 * Reads a JSON body (at most BODY_LIMIT bytes: 413 beyond, before reading when the Content-Length
 * says so) and parses it (body.ts); `done` gets the body or the error to answer.
 */
export function readJsonBody(req: IncomingMessage, done: (err: ApiError | undefined, body?: unknown) => void): void {
  const length = Number(req.headers['content-length']);
  if (length > BODY_LIMIT) return done(tooLargeError());
  const reader = new BodyReader(req, length, done);
  req.on('data', reader.onData);
  req.on('end', reader.onEnd);
  req.on('error', reader.onError);
  req.resume();
}

/** One body being read (a class, not closures: the push path reads one per request). */
class BodyReader {
  private chunks: Buffer[] = [];
  private received = 0;

  constructor(
    private readonly req: IncomingMessage,
    private readonly length: number,
    private readonly done: (err: ApiError | undefined, body?: unknown) => void,
  ) {}

  onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.received > BODY_LIMIT) {
      this.stop();
      return this.done(tooLargeError());
    }
    this.chunks.push(chunk);
  };

  onEnd = (): void => {
    this.stop();
    if (!Number.isNaN(this.length) && this.received !== this.length)
      return this.done(new BodyReadError(400, 'invalid_body', 'Content-Length does not match the body'));
    let body: unknown;
    try {
      body = parseJsonBody(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks));
    } catch (err) {
      return this.done(err instanceof ApiError ? new BodyReadError(err.statusCode, err.code, err.message, err.field) : (err as ApiError));
    }
    this.done(undefined, body);
  };

  /** the request stream failed (the client went away): there is rarely anyone to answer */
  onError = (err: Error): void => {
    this.stop();
    this.done(new BodyReadError(400, 'bad_request', err.message));
  };

  private stop() {
    this.req.removeListener('data', this.onData);
    this.req.removeListener('end', this.onEnd);
    this.req.removeListener('error', this.onError);
    this.req.on('error', ignore); // an error after the answer: nobody to tell
  }
}

const ignore = () => undefined;
