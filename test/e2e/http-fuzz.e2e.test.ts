import * as fc from 'fast-check';
import * as net from 'net';
import { createKafka } from '../../libs/kafka/client';
import { groupId, topicName } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';
import { fuzzParams, fuzzRuns } from '../fuzz';
import { ApiProcess, startApi } from './api-client';
import { createTestEnv, rows, TestEnv, waitFor } from './harness';
import { inErrorModel, parseResponses, RawResponse, request } from './raw-http';

/**
 * HTTP fuzzing over raw sockets against the real api (server and consumers, real Kafka and
 * PostgreSQL): connections carry random sequences of requests (pushes good and bad, reads with
 * odd queries, broken framing, odd methods and encodings), pipelined, written in random pieces.
 * Whatever comes: never a 5xx, never an error outside `{"error":{"code","message","field"}}`, every
 * push that was applied has its 200 (and only those), no connection hangs, and the server still
 * answers. Fixed seed and a bounded number of connections in `make test`; DASY_FUZZ_RUNS for more.
 */
const RUNS = 40;
let t: TestEnv;
let api: ApiProcess;
let caseNo = 0;

/** A push's name is unique in the whole run: an audit row says it was applied. */
const pushesSent = new Set<string>();
const pushesAnswered = new Set<string>();
/** What each push's connection sent and received, to show when a push is applied unanswered. */
const conversations = new Map<string, string>();

beforeAll(async () => {
  t = await createTestEnv('httpfuzz');
  api = await startApi(t, ['--push-timeout', '60000'], {
    DASY_API_HEADERS_TIMEOUT_MS: '1000',
    DASY_API_REQUEST_TIMEOUT_MS: '1500',
    DASY_API_KEEPALIVE_TIMEOUT_MS: '1500',
  });
});

afterAll(async () => {
  await api?.stop();
  await t?.cleanup();
});

interface Req {
  bytes: Buffer;
  method: string;
  /** its Content-Length covers more than it sends: it takes bytes of what follows as its body */
  swallows?: boolean;
  /** the product name, when this is a valid push (it will be applied if the server reads it) */
  push?: string;
}

const json = (o: unknown) => Buffer.from(JSON.stringify(o));

/** A body framed with Content-Length, or chunked at random sizes (with the odd chunk extension). */
const framed = (method: string, path: string, headers: [string, string][], body: Buffer, chunks: number[] | null): Buffer => {
  if (!chunks) return request(method, path, { headers, body });
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of [...chunks, body.length]) {
    const piece = body.subarray(at, Math.min(body.length, at + Math.max(1, size)));
    if (!piece.length) break;
    parts.push(Buffer.from(`${piece.length.toString(16)}${size % 3 === 0 ? ';ext=1' : ''}\r\n`), piece, Buffer.from('\r\n'));
    at += piece.length;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return request(method, path, { headers: [...headers, ['Transfer-Encoding', 'chunked']], body: Buffer.concat(parts) });
};

const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/json;charset="UTF-8"');
const chunking = fc.option(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }), { nil: null });
const extraHeaders = fc.subarray([
  ['Connection', 'keep-alive'],
  ['Expect', '100-continue'],
  ['Accept-Encoding', 'gzip'],
  ['X-Forwarded-For', '10.0.0.1'],
] as [string, string][]);

const validPush = fc
  .record({
    score: fc.oneof(fc.double({ min: 0, max: 5, noNaN: true }), fc.constantFrom(0, 5, Number.MIN_VALUE, 1e-170)),
    type: contentType,
    chunks: chunking,
    extra: extraHeaders,
  })
  .map((p): Req => {
    const name = `Fz ${caseNo}.${pushesSent.size} é🎉`;
    pushesSent.add(name);
    return {
      method: 'POST',
      push: name,
      bytes: framed('POST', '/api/push', [['Content-Type', p.type], ...p.extra], json({ name, score: p.score === 0 ? 0 : p.score }), p.chunks),
    };
  });

const badBody = fc.oneof(
  // bodies that cannot be parsed: after them the connection must go on
  {
    arbitrary: fc.constantFrom(Buffer.from('{"name":'), Buffer.concat([Buffer.from('{"name":"x'), Buffer.from([0xff, 0xfe]), Buffer.from('","score":1}')])),
    weight: 2,
  },
  {
    arbitrary: fc.constantFrom(
      Buffer.from('{"name":'),
      Buffer.from('[1,2]'),
      Buffer.from('null'),
      Buffer.from('{"name":"x","score":7}'),
      Buffer.from('{"name":"","score":1}'),
      Buffer.from('{"name":"x\\u0000","score":1}'),
      Buffer.from('{"name":"\\ud800","score":1}'),
      Buffer.concat([Buffer.from('{"name":"x'), Buffer.from([0xff, 0xfe]), Buffer.from('","score":1}')]),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name":"bom","score":1}')]),
      Buffer.from(`{"name":"${'n'.repeat(300)}","score":1}`),
      Buffer.from('{"name":"x","score":1e999}'),
      Buffer.from(''),
    ),
    weight: 3,
  },
);
const invalidPush = fc
  .record({
    body: badBody,
    type: fc.oneof(contentType, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1')),
    chunks: chunking,
  })
  .map((p): Req => ({ method: 'POST', bytes: framed('POST', '/api/push', [['Content-Type', p.type]], p.body, p.chunks) }));

const queryValue = fc.oneof(
  fc.constantFrom(
    'minute',
    'day',
    'constructor',
    '__proto__',
    '%00',
    '%FF',
    '%E0%A4%A',
    '%C3%A9',
    '2024-01-01',
    '0050-01-01T00:00:00Z',
    '2024-02-30',
    'a+b',
    '',
    '%',
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 8 }).map(encodeURIComponent),
);
const query = fc
  .array(fc.tuple(fc.constantFrom('from', 'to', 'interval', 'username', 'sdk', 'sdk_version', 'q', 'name', 'after', 'limit', 'x', '__proto__'), queryValue), {
    maxLength: 3,
  })
  .map((ps) => (ps.length ? '?' + ps.map(([k, v]) => `${k}=${v}`).join('&') : ''));
const pathName = fc.oneof(
  fc.constantFrom('Fz%20known', '%00', '%FF', '%E0%A4%A', 'a%2Fb', 'x'.repeat(300), '..', '%20'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 6 }).map(encodeURIComponent),
);
const read = fc
  .tuple(
    fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT'),
    fc.oneof(
      pathName.map((n) => `/api/products/${n}/stats`),
      pathName.map((n) => `/api/products/${n}/history`),
      pathName.map((n) => `/api/products/${n}/sessions`),
      pathName.map((n) => `/api/catalog/products/${n}`),
      pathName.map((n) => `/api/catalog/names/${n}`),
      fc.constantFrom('/statistics', '/api/dashboard/names', '/api/catalog/products', '/healthz', '/impression', '/nope', '//', '/api/push'),
    ),
    query,
  )
  .map(([method, path, q]): Req => ({ method, bytes: request(method, path + q) }));

const broken = fc.constantFrom<Req>(
  { method: 'GET', bytes: Buffer.from('GARBAGE\r\n\r\n') },
  { method: 'GET', bytes: Buffer.from('GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n') },
  { method: 'GET', bytes: Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n') },
  { method: 'GET', bytes: Buffer.from('GET /healthz HTTP/1.1\r\n\r\n') }, // no Host
  { method: 'GET', bytes: Buffer.from('GET /healthz HTTP/1.0\r\n\r\n') },
  { method: 'GET', bytes: request('GET', '/healthz', { headers: [['Expect', 'tea']] }) },
  { method: 'GET', bytes: request('GET', '/healthz', { headers: [['X-Big', 'b'.repeat(17000)]] }) },
  {
    method: 'POST',
    bytes: request('POST', '/api/push', {
      headers: [
        ['Content-Type', 'application/json'],
        ['Content-Length', '2'],
        ['Content-Length', '3'],
      ],
      body: '{}',
    }),
  },
  {
    method: 'POST',
    bytes: request('POST', '/api/push', {
      headers: [
        ['Content-Type', 'application/json'],
        ['Content-Length', '-1'],
      ],
    }),
  },
  {
    method: 'POST',
    bytes: request('POST', '/api/push', {
      headers: [
        ['Content-Type', 'application/json'],
        ['Transfer-Encoding', 'chunked'],
      ],
      body: 'zz\r\n{}\r\n0\r\n\r\n',
    }),
  },
  {
    method: 'POST',
    bytes: request('POST', '/api/push', {
      headers: [
        ['Content-Length', '3'],
        ['Transfer-Encoding', 'chunked'],
      ],
      body: '0\r\n\r\n',
    }),
  },
  // a body longer than what is sent: it swallows what follows, or times out
  {
    method: 'POST',
    swallows: true,
    bytes: request('POST', '/api/push', {
      headers: [
        ['Content-Type', 'application/json'],
        ['Content-Length', '40'],
      ],
      body: '{"name":"swallow',
    }),
  },
  { method: 'GET', bytes: Buffer.from('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n') },
  {
    method: 'POST',
    bytes: request('POST', '/api/push', {
      headers: [
        ['Content-Type', 'application/json'],
        ['Connection', 'close'],
      ],
      body: '{"name":',
    }),
  },
);

const connection = fc
  .record({
    requests: fc.array(
      fc.oneof({ arbitrary: validPush, weight: 4 }, { arbitrary: invalidPush, weight: 2 }, { arbitrary: read, weight: 3 }, { arbitrary: broken, weight: 1 }),
      {
        minLength: 1,
        maxLength: 4,
      },
    ),
    /** how the client ends: a last request asking to close, or half-closing its side */
    ending: fc.constantFrom('close-request', 'close-request', 'half-close'),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
    gapMs: fc.constantFrom(0, 0, 5, 30),
  })
  // The answers to a HEAD have no body, so reading them needs to know which answer is a HEAD's:
  // the i-th answer is the i-th request's, unless a request swallowed part of the next ones.
  .filter((c) => !(c.requests.some((r) => r.method === 'HEAD') && c.requests.some((r) => r.swallows)));

/** Write the bytes in pieces; collect everything until the server closes (or fail after 15 s). */
async function converse(bytes: Buffer, cuts: number[], gapMs: number, halfClose: boolean): Promise<{ data: Buffer; hung: boolean }> {
  const { port, hostname } = new URL(api.url);
  const socket = net.connect(Number(port), hostname);
  let data = Buffer.alloc(0);
  socket.on('data', (d) => (data = Buffer.concat([data, d])));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let at = 0;
  for (const cut of [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b)) {
    if (socket.destroyed) break;
    socket.write(bytes.subarray(at, cut));
    at = cut;
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  if (!socket.destroyed) socket.write(bytes.subarray(at));
  if (halfClose && !socket.destroyed) socket.end();
  let timer: NodeJS.Timeout | undefined;
  const hung = await Promise.race([closed.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 15000)))]);
  clearTimeout(timer);
  socket.destroy();
  return { data, hung };
}

function check(c: { requests: Req[] }, responses: RawResponse[]) {
  for (const [i, r] of responses.entries()) {
    const where = `response ${i} of ${responses.length} (${r.status}): ${r.body.toString().slice(0, 200)}`;
    if (r.status >= 500) throw new Error(`a 5xx: ${where}`);
    const req = c.requests[i];
    // a HEAD answer has the headers of the GET's, never a body
    const head = req?.method === 'HEAD';
    if (r.status >= 400 && !(head ? /^application\/json/.test(r.headers['content-type'] ?? '') : inErrorModel(r))) {
      throw new Error(`an error outside the model: ${where}`);
    }
    // a push's 200 names it (names are unique): whatever its place among the answers
    const pushed = r.status === 200 && c.requests.find((q) => q.push !== undefined && q.push === r.json?.name)?.push;
    if (pushed) {
      if (pushesAnswered.has(pushed)) throw new Error(`push ${pushed} answered twice: ${where}`);
      pushesAnswered.add(pushed);
    }
    if (r.status < 300 && req && !head && !/^application\/json/.test(r.headers['content-type'] ?? '')) throw new Error(`not JSON: ${where}`);
  }
}

test(
  'raw HTTP fuzzing: never a 5xx, never an error outside the model, never an applied push without its answer, the server keeps answering',
  async () => {
    await fc.assert(
      fc.asyncProperty(connection, async (c) => {
        caseNo++;
        const requests =
          c.ending === 'close-request'
            ? [...c.requests, { method: 'GET', bytes: request('GET', '/healthz', { headers: [['Connection', 'close']] }) }]
            : c.requests;
        const { data, hung } = await converse(Buffer.concat(requests.map((r) => r.bytes)), c.cuts, c.gapMs, c.ending === 'half-close');
        if (hung) throw new Error('the connection was still open 15 s after the last byte');
        const shown = (b: Buffer) => JSON.stringify(b.toString('latin1')).slice(0, 3000);
        for (const r of requests)
          if (r.push)
            conversations.set(
              r.push,
              `case ${caseNo} (${c.ending}, cuts ${c.cuts.join(',')}, gap ${c.gapMs} ms)\n  sent ${shown(Buffer.concat(requests.map((q) => q.bytes)))}\n  got ${shown(data)}`,
            );
        const { responses } = parseResponses(data, (i) => requests[i]?.method === 'HEAD');
        check({ requests }, responses);
        // the server still answers, on a new connection
        const health = await fetch(`${api.url}/healthz`);
        expect(health.status).toBe(200);
      }),
      fuzzParams(RUNS, { endOnFailure: true }),
    );

    // Every push the server read is applied by now or soon: wait until the scores consumer caught
    // up, then every applied push must have had its 200, and every 200 must be an applied push.
    const kafka = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'dasy-test-fuzz', logger: createLogger('test') });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = topicName(t.namespace, 'scores');
      await waitFor('the scores consumer caught up', async () => {
        const high = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
        const stored = await rows<{ partition: number; next_offset: string }>(
          t.pool,
          'SELECT partition, next_offset FROM dasy_consumer_offsets WHERE group_id = $1 AND topic = $2',
          [groupId(t.namespace, 'scores-consumer'), topic],
        );
        return [...high].every(([p, h]) => h === 0n || BigInt(stored.find((s) => s.partition === p)?.next_offset ?? -1) === h);
      });
    } finally {
      await admin.disconnect();
    }
    const applied = await rows<{ name: string; n: number }>(t.pool, 'SELECT name, count(*)::int AS n FROM score_pushes WHERE name = ANY($1) GROUP BY name', [
      [...pushesSent],
    ]);
    expect(applied.filter((a) => a.n !== 1)).toEqual([]); // none applied twice
    const unanswered = applied.filter((a) => !pushesAnswered.has(a.name)).map((a) => `${a.name}: ${conversations.get(a.name)}`);
    expect(unanswered).toEqual([]);
    const answeredNotApplied = [...pushesAnswered].filter((n) => !applied.some((a) => a.name === n));
    expect(answeredNotApplied).toEqual([]);
    expect(pushesAnswered.size).toBeGreaterThan(0);
  },
  Math.max(120000, fuzzRuns(RUNS) * 3000),
);
