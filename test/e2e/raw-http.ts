import * as net from 'net';

/**
 * HTTP/1.1 over a raw socket, for what fetch cannot send: pipelined requests, broken framing,
 * invalid bytes, slow clients. Responses are parsed from the bytes as they arrive.
 */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** the body as JSON, or undefined when it is not JSON */
  json: any;
}

export interface RawExchange {
  responses: RawResponse[];
  /** the server closed the connection (or it was reset) */
  closed: boolean;
  /** bytes after the last complete response */
  rest: Buffer;
}

/** Parse as many complete responses as `data` holds; `noBody(i)`: the i-th answers a HEAD. */
export function parseResponses(data: Buffer, noBody: (index: number) => boolean = () => false): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const head = data.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(head[0])}`);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let bodyStart = end + 4;
    let body: Buffer;
    const status = Number(m[1]);
    if (status === 100) {
      at = bodyStart;
      continue;
    }
    if (noBody(responses.length)) {
      body = Buffer.alloc(0);
    } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const chunks: Buffer[] = [];
      let p = bodyStart;
      let done = false;
      for (;;) {
        const lineEnd = data.indexOf('\r\n', p);
        if (lineEnd < 0) break;
        const size = parseInt(data.subarray(p, lineEnd).toString('latin1'), 16);
        if (data.length < lineEnd + 2 + size + 2) break;
        chunks.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
        if (size === 0) {
          done = true;
          break;
        }
      }
      if (!done) break;
      body = Buffer.concat(chunks);
      bodyStart = p;
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < bodyStart + length) break;
      body = data.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    }
    let json: RawResponse['json'];
    if ((headers['content-type'] ?? '').includes('json')) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    responses.push({ status, headers, body, json });
    at = bodyStart;
  }
  return { responses, rest: data.subarray(at) };
}

/**
 * Write `chunks` (with `gapMs` between them) on one connection and collect what comes back until
 * `expect` responses arrived and, when `untilClose`, the server closed; or until `timeoutMs`.
 */
export function exchange(
  url: string,
  chunks: (string | Buffer)[],
  options: { expect?: number; untilClose?: boolean; timeoutMs?: number; gapMs?: number; endAfterWrite?: boolean } = {},
): Promise<RawExchange> {
  const { port, hostname } = new URL(url);
  const expect = options.expect ?? 1;
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let data = Buffer.alloc(0);
    let closed = false;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      try {
        const { responses, rest } = parseResponses(data);
        resolve({ responses, closed, rest });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const check = () => {
      let n: number;
      try {
        n = parseResponses(data).responses.length;
      } catch {
        return finish();
      }
      if (n >= expect && (!options.untilClose || closed)) finish();
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 15000);
    socket.on('data', (d) => {
      data = Buffer.concat([data, d]);
      check();
    });
    socket.on('error', () => {
      closed = true;
      check();
      finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    const write = async () => {
      for (const [i, c] of chunks.entries()) {
        if (i > 0 && options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
        if (socket.destroyed) return;
        socket.write(c);
      }
      if (options.endAfterWrite) socket.end();
    };
    socket.on('connect', () => {
      write().catch(() => undefined);
    });
  });
}

/** A request's bytes: `headers` in order (duplicates allowed), Host and Content-Length unless given. */
export function request(
  method: string,
  path: string,
  options: { headers?: [string, string][]; body?: string | Buffer; noLength?: boolean; noHost?: boolean } = {},
): Buffer {
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, 'utf8');
  const headers: [string, string][] = [...(options.headers ?? [])];
  const has = (name: string) => headers.some(([k]) => k.toLowerCase() === name);
  if (!options.noHost && !has('host')) headers.unshift(['Host', '127.0.0.1']);
  if (!options.noLength && !has('content-length') && !has('transfer-encoding') && (body.length > 0 || method === 'POST')) {
    headers.push(['Content-Length', String(body.length)]);
  }
  const head = `${method} ${path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export const jsonPush = (body: string | Buffer, extra: [string, string][] = []) =>
  request('POST', '/api/push', { headers: [['Content-Type', 'application/json'], ...extra], body });

/** Whether a reply is in the error model: JSON `{"error":{"code","message","field"}}` and nothing else. */
export function inErrorModel(r: RawResponse): boolean {
  if (!/^application\/json/.test(r.headers['content-type'] ?? '')) return false;
  const j = r.json;
  if (!j || typeof j !== 'object' || Object.keys(j).join() !== 'error') return false;
  const e = j.error;
  return (
    e !== null &&
    typeof e === 'object' &&
    Object.keys(e).sort().join() === 'code,field,message' &&
    typeof e.code === 'string' &&
    typeof e.message === 'string' &&
    (e.field === null || typeof e.field === 'string')
  );
}

/** A kept-open connection: write requests, wait for responses, see when the server closes it. */
export interface Connection {
  write(bytes: string | Buffer): void;
  /** resolves once `n` responses arrived in all (rejects if the connection closes first) */
  responses(n: number): Promise<RawResponse[]>;
  closed: Promise<void>;
  destroy(): void;
}

export function connect(url: string): Promise<Connection> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let data = Buffer.alloc(0);
    let isClosed = false;
    const waiting: (() => void)[] = [];
    const wake = () => waiting.splice(0).forEach((w) => w());
    const closed = new Promise<void>((r) =>
      socket.on('close', () => {
        isClosed = true;
        wake();
        r();
      }),
    );
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      data = Buffer.concat([data, d]);
      wake();
    });
    socket.on('connect', () =>
      resolve({
        write: (bytes) => void socket.write(bytes),
        responses: (n) =>
          new Promise((res, rej) => {
            const check = () => {
              const { responses } = parseResponses(data);
              if (responses.length >= n) return res(responses);
              if (isClosed) return rej(new Error(`connection closed after ${responses.length} of ${n} responses`));
              waiting.push(check);
            };
            check();
          }),
        closed,
        destroy: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}

/**
 * A client that writes its whole request (head, then `body` in pieces of `piece` bytes, `gapMs`
 * apart, as over a real link) before it reads a byte, as Python's urllib does: what it reads once
 * its writes are done, and the first write error (EPIPE, ECONNRESET) if the server cut it off.
 */
export function writeAllThenRead(
  url: string,
  head: string | Buffer,
  body: Buffer,
  options: { piece?: number; gapMs?: number; timeoutMs?: number } = {},
): Promise<{ writeError: string | undefined; responses: RawResponse[]; closed: boolean }> {
  const { port, hostname } = new URL(url);
  const piece = options.piece ?? 64 * 1024;
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    socket.pause(); // nothing is read until every byte is written
    let data = Buffer.alloc(0);
    let writeError: string | undefined;
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      let responses: RawResponse[];
      try {
        responses = parseResponses(data).responses;
      } catch {
        responses = [];
      }
      resolve({ writeError, responses, closed });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 20000);
    const write = (b: string | Buffer) => new Promise<void>((ok, fail) => socket.write(b, (err) => (err ? fail(err) : ok())));
    socket.on('error', (err: NodeJS.ErrnoException) => (writeError ??= err.code ?? err.message));
    socket.on('connect', () => {
      (async () => {
        try {
          await write(head);
          for (let at = 0; at < body.length; at += piece) {
            await write(body.subarray(at, at + piece));
            if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
          }
        } catch (err) {
          writeError ??= (err as NodeJS.ErrnoException).code ?? String(err);
        }
        socket.on('data', (d: Buffer) => (data = Buffer.concat([data, d])));
        socket.on('close', () => {
          closed = true;
          finish();
        });
        socket.resume();
      })().catch(() => undefined);
    });
  });
}
