import { ServerResponse } from 'http';

/** An answer that is not a JSON 200: its status, content type and body as sent. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: string | Buffer | object,
    /** undefined: JSON */
    readonly contentType?: string,
  ) {}
}

/** A JSON 200 already serialized (a body kept for reuse: stats-body.ts), with its length in bytes: sent as it is. */
export class JsonText {
  readonly bytes: number;

  constructor(readonly text: string) {
    this.bytes = Buffer.byteLength(text);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Send a JSON value (or a Reply) with its length; HEAD answers get the headers only (node drops the body). */
export function send(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  let type = JSON_TYPE;
  if (body instanceof Reply) {
    status = body.status;
    type = body.contentType ?? JSON_TYPE;
    body = body.body;
  }
  if (headers) for (const name in headers) res.setHeader(name, headers[name]);
  if (body instanceof JsonText) {
    res.writeHead(status, { 'content-type': type, 'content-length': body.bytes });
    return void res.end(body.text);
  }
  const payload = typeof body === 'string' && type !== JSON_TYPE ? body : Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length });
  res.end(payload);
}
