import { ApiProcess, call, startApi } from './api-client';
import { createTestEnv, TestEnv } from './harness';
import { inErrorModel, writeAllThenRead } from './raw-http';

/**
 * An answer sent before the request's body was read (413, 431, 400) reaches a client that writes
 * its whole body before it reads, as Python's urllib does: the api closes such a connection
 * lingering (apps/api/lingering-close.ts), reading and discarding what still comes, instead of
 * closing it with unread bytes (the kernel then resets it and the client sees `Broken pipe`).
 */
let t: TestEnv;
let api: ApiProcess;

beforeAll(async () => {
  t = await createTestEnv('earlyrefusal');
  api = await startApi(t);
});

afterAll(async () => {
  await api?.stop();
  await t?.cleanup();
});

const BODY = Buffer.alloc(2 * 1024 * 1024, 'a'); // 2 MiB: over the 1 MiB limit
const head = (headers: string) => `POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${headers}\r\n`;

test.each([
  ['413: a body over 1 MiB', head(`Content-Length: ${BODY.length}\r\n`), 413, 'payload_too_large'],
  ['431: headers over 16 KiB', head(`X-Padding: ${'p'.repeat(20000)}\r\nContent-Length: ${BODY.length}\r\n`), 431, 'headers_too_large'],
  ['400: a Content-Length that is not a number', head('Content-Length: 2097152x\r\n'), 400, 'malformed_request'],
])('%s: the client that writes all 2 MiB first reads the answer', async (_what, requestHead, status, code) => {
  for (let i = 0; i < 3; i++) {
    const r = await writeAllThenRead(api.url, requestHead, BODY, { piece: 64 * 1024, gapMs: 2 });
    expect({ writeError: r.writeError, statuses: r.responses.map((x) => x.status), closed: r.closed }).toEqual({
      writeError: undefined,
      statuses: [status],
      closed: true,
    });
    expect(inErrorModel(r.responses[0])).toBe(true);
    expect(r.responses[0].json.error.code).toBe(code);
  }
  // and the api goes on answering
  expect((await call('GET', `${api.url}/healthz`)).status).toBe(200);
});
