import * as http from 'http';
import { AddressInfo } from 'net';
import { Kafka, KafkaMessage } from '../../libs/kafka/port';
import { createKafka } from '../../libs/kafka/client';
import { topicName } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';
import { ApiProcess, call, startApi } from './api-client';
import { createTestEnv, rows, TestEnv, waitFor } from './harness';
import { exactMoments, isCorrectlyRounded, isCorrectlyRoundedSqrt } from '../exact';
import { connect, exchange, inErrorModel, jsonPush, RawResponse, request } from './raw-http';

/**
 * The api under hostile or unlucky input (issue 15): every request is answered once, in the error
 * model, or not applied; nothing hangs. One `dasy api` (server and consumers) with short HTTP
 * timeouts, over real Kafka and PostgreSQL.
 */
const TIMEOUTS = { DASY_API_HEADERS_TIMEOUT_MS: '1500', DASY_API_REQUEST_TIMEOUT_MS: '3000', DASY_API_KEEPALIVE_TIMEOUT_MS: '2000' };

let t: TestEnv;
let api: ApiProcess;
let kafka: Kafka;
let upstream: http.Server;

const push = (name: string, score: number) => call('POST', `${api.url}/api/push`, { json: { name, score } });
const get = (path: string) => call('GET', `${api.url}${path}`);
const auditCount = async (name: string) => Number((await rows<{ n: string }>(t.pool, 'SELECT count(*) AS n FROM score_pushes WHERE name = $1', [name]))[0].n);

function expectError(r: RawResponse, status: number, code: string, field: string | null) {
  expect(inErrorModel(r)).toBe(true);
  expect([r.status, r.json.error.code, r.json.error.field]).toEqual([status, code, field]);
}

beforeAll(async () => {
  t = await createTestEnv('hostile');
  kafka = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'dasy-test-hostile', logger: createLogger('test') });
  // an ad upstream that takes 1.5 s: a request that is in flight for a while
  upstream = http.createServer((_req, res) => {
    const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/xml' }).end('<VAST version="3.0"/>'), 1500);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  api = await startApi(t, [], { ...TIMEOUTS, AD_UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/vast` });
});

afterAll(async () => {
  await api?.stop();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
  await t?.cleanup();
});

/** Every message of a topic from the beginning (the dead-letter topics are small). */
async function readTopic(topic: string, atLeast: number): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `${t.namespace}.reader-${Math.random().toString(36).slice(2)}` });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        messages.push(message);
        return Promise.resolve();
      },
    });
    await waitFor(`${atLeast} message(s) on ${topic}`, () => Promise.resolve(messages.length >= atLeast), 60000);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

describe('1. score arithmetic: every finite score 0-5 is applied, and a push that is not applied is never a 200', () => {
  test('0 then 1e-170, and the reverse: both applied, exact statistics, no dead letter', async () => {
    expect((await push('Tiny', 0)).body).toEqual({ name: 'Tiny', count: 1, mean: 0, stddev: 0, min: 0, max: 0 });
    const r = await push('Tiny', 1e-170);
    expect([r.status, r.body]).toEqual([200, { name: 'Tiny', count: 2, mean: 5e-171, stddev: 5e-171, min: 0, max: 1e-170 }]);
    expect((await push('Tiny2', 1e-170)).body.count).toBe(1);
    expect((await push('Tiny2', 0)).body).toEqual({ name: 'Tiny2', count: 2, mean: 5e-171, stddev: 5e-171, min: 0, max: 1e-170 });
    expect([await auditCount('Tiny'), await auditCount('Tiny2')]).toEqual([2, 2]);
  });

  test('subnormals and the extremes: the smallest double, 2^-1022, 5', async () => {
    for (const x of [Number.MIN_VALUE, 2 ** -1022, 5]) expect((await push('Subnormal', x)).status).toBe(200);
    const s = await get('/api/products/Subnormal/stats');
    expect(s.body).toMatchObject({ count: 3, min: Number.MIN_VALUE, max: 5 });
    // the exact mean and population stddev of the three, correctly rounded
    const exact = exactMoments([Number.MIN_VALUE, 2 ** -1022, 5].map((x) => ({ x, count: 1n })));
    expect([isCorrectlyRounded(s.body.mean, exact.mean), isCorrectlyRoundedSqrt(s.body.stddev, exact.variance)]).toEqual([true, true]);
    const h = await get('/api/products/Subnormal/history?interval=day');
    expect(h.body.buckets.map((b: { count: number; mean: number }) => [b.count, b.mean])).toEqual([[3, s.body.mean]]);
  });

  test('a push the scores consumer cannot apply is dead-lettered with its reason and answered 500 dead_lettered, not 200', async () => {
    expect((await push('Refused', 1)).body.count).toBe(1);
    // PostgreSQL will refuse the second push of this name (a data error, SQLSTATE 23514)
    await t.pool.query(`ALTER TABLE score_stats ADD CONSTRAINT test_refused CHECK (name <> 'Refused' OR count < 2)`);
    try {
      const r = await push('Refused', 2);
      expect(r.status).toBe(500);
      expect(r.body.error).toMatchObject({ code: 'dead_lettered', field: null });
      expect(r.body.error.message).toContain(`${t.namespace}.scores.dlq`);
      expect((await get('/api/products/Refused/stats')).body.count).toBe(1);
      const letters = await readTopic(topicName(t.namespace, 'scores') + '.dlq', 1);
      expect(letters.map((m) => m.headers?.['dasy-reason']?.toString())).toEqual([expect.stringMatching(/^rejected by PostgreSQL: .*test_refused/)]);
    } finally {
      await t.pool.query('ALTER TABLE score_stats DROP CONSTRAINT test_refused');
    }
    expect((await push('Refused', 3)).body.count).toBe(2); // the next push is applied again
  });

  test('an api process without consumers learns of the dead letter from PostgreSQL: 500 too', async () => {
    const remote = await startApi(t, ['--no-consumers'], TIMEOUTS);
    try {
      const via = (score: number) => call('POST', `${remote.url}/api/push`, { json: { name: 'RefusedRemote', score } });
      expect((await via(1)).body.count).toBe(1);
      await t.pool.query(`ALTER TABLE score_stats ADD CONSTRAINT test_refused_remote CHECK (name <> 'RefusedRemote' OR count < 2)`);
      try {
        const r = await via(2);
        expect([r.status, r.body.error.code]).toEqual([500, 'dead_lettered']);
      } finally {
        await t.pool.query('ALTER TABLE score_stats DROP CONSTRAINT test_refused_remote');
      }
      expect((await via(3)).body.count).toBe(2);
      expect(await rows(t.pool, `SELECT reason FROM score_dead_letters WHERE reason LIKE '%test_refused_remote%'`)).toHaveLength(1);
    } finally {
      expect(await remote.stop()).toEqual({ code: 0, signal: null });
    }
  });

  test('the ad-events dead letters carry their reason too', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topicName(t.namespace, 'adEvents'), messages: [{ key: 'u', value: '{"type":"click"}' }] });
    await producer.disconnect();
    const letters = await readTopic(topicName(t.namespace, 'adEvents') + '.dlq', 1);
    expect(letters.map((m) => m.headers?.['dasy-reason']?.toString())).toEqual(['type: expected ad or impression, got "click"']);
  });
});

describe('2. no 500s from inherited properties or NUL bytes', () => {
  beforeAll(async () => {
    expect((await push('Hist', 1)).status).toBe(200);
  });

  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('history?interval=%s is 400 invalid_value on interval', async (interval) => {
    const r = await get(`/api/products/Hist/history?interval=${interval}`);
    expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, 'invalid_value', 'interval']);
  });

  test('a NUL byte in any query parameter never reaches PostgreSQL: 400 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['/api/dashboard/names?q=%00', 'q'],
      ['/api/dashboard/names?q=a%00b', 'q'],
      ['/statistics?username=a%00', 'username'],
      ['/statistics?sdk=1%00', 'sdk'],
      ['/api/products/Hist/stats?from=2024-01-01%00', 'from'],
      ['/api/products/Hist%00/stats', 'name'],
    ];
    for (const [path, field] of cases) {
      const r = await get(path);
      expect([path, r.status, r.body.error.field]).toEqual([path, 400, field]);
    }
    expect((await get('/api/dashboard/names?q=Hist')).status).toBe(200);
  });
});

describe('3. pipelining: every request that is applied is answered, in order', () => {
  test('an invalid-JSON push then a valid one on the same connection: 400 then 200, the second applied once', async () => {
    const x = await exchange(api.url, [Buffer.concat([jsonPush('{"name":'), jsonPush('{"name":"Pipe","score":2}')])], { expect: 2 });
    expect(x.responses.map((r) => r.status)).toEqual([400, 200]);
    expectError(x.responses[0], 400, 'invalid_json', null);
    expect(x.responses[1].json).toMatchObject({ name: 'Pipe', count: 1 });
    expect(await auditCount('Pipe')).toBe(1);
  });

  test('the same through the general path (chunked bodies)', async () => {
    const chunked = (body: string) =>
      request('POST', '/api/push', {
        headers: [
          ['Content-Type', 'application/json'],
          ['Transfer-Encoding', 'chunked'],
        ],
        body: `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      });
    const x = await exchange(api.url, [Buffer.concat([chunked('{"name":'), chunked('{"name":"PipeChunked","score":2}')])], { expect: 2 });
    expect(x.responses.map((r) => r.status)).toEqual([400, 200]);
    expect(x.responses[1].json).toMatchObject({ name: 'PipeChunked', count: 1 });
  });

  test('many pushes pipelined, some invalid: one answer each, in order', async () => {
    const bodies = ['{"name":"Many","score":1}', '{', '{"name":"Many","score":9}', '{"name":"Many","score":2}', 'null', '{"name":"Many","score":3}'];
    const x = await exchange(api.url, [Buffer.concat(bodies.map((b) => jsonPush(b)))], { expect: bodies.length });
    expect(x.responses.map((r) => r.status)).toEqual([200, 400, 400, 200, 400, 200]);
    expect(x.responses.map((r) => r.json.error?.code ?? r.json.name)).toEqual(['Many', 'invalid_json', 'out_of_range', 'Many', 'invalid_body', 'Many']);
    // each reply includes its own push (concurrent ones may be applied in one batch)
    for (const r of x.responses.filter((r) => r.status === 200)) expect(r.json.count).toBeGreaterThanOrEqual(1);
    expect(await auditCount('Many')).toBe(3);
    expect((await get('/api/products/Many/stats')).body.count).toBe(3);
  });

  test('a Content-Length covering one push, then stray bytes: the push is answered, then a 400, then the connection closes', async () => {
    const x = await exchange(api.url, [Buffer.concat([jsonPush('{"name":"Stray","score":4}'), Buffer.from('garbage\r\n\r\n')])], {
      expect: 2,
      untilClose: true,
    });
    expect(x.responses.map((r) => r.status)).toEqual([200, 400]);
    expect(x.responses[0].json).toMatchObject({ name: 'Stray', count: 1 });
    expectError(x.responses[1], 400, 'malformed_request', null);
    expect(x.closed).toBe(true);
    expect(await auditCount('Stray')).toBe(1);
  });

  test('a client that half-closes its side after sending still gets every answer', async () => {
    const bytes = Buffer.concat([jsonPush('{"name":"Half","score":1}'), jsonPush('{"name":"Half","score":2}')]);
    const x = await exchange(api.url, [bytes], { expect: 2, untilClose: true, endAfterWrite: true });
    expect(x.responses.map((r) => [r.status, r.json.name])).toEqual([
      [200, 'Half'],
      [200, 'Half'],
    ]);
    expect(x.closed).toBe(true);
    expect(await auditCount('Half')).toBe(2);
  });

  test('a request after one that asked to close the connection is not processed', async () => {
    const x = await exchange(
      api.url,
      [Buffer.concat([jsonPush('{"name":"Closing","score":1}', [['Connection', 'close']]), jsonPush('{"name":"Closing","score":2}')])],
      {
        expect: 1,
        untilClose: true,
      },
    );
    expect(x.responses.map((r) => [r.status, r.headers.connection])).toEqual([[200, 'close']]);
    expect(await auditCount('Closing')).toBe(1);
  });
});

describe('4. errors before routing are in the error model too', () => {
  const cases: [string, Buffer, number, string, string | null][] = [
    [
      'a malformed chunk',
      request('POST', '/api/push', {
        headers: [
          ['Content-Type', 'application/json'],
          ['Transfer-Encoding', 'chunked'],
        ],
        body: 'zz\r\n{}\r\n0\r\n\r\n',
      }),
      400,
      'malformed_request',
      'transfer-encoding',
    ],
    [
      'two different Content-Lengths',
      request('POST', '/api/push', {
        headers: [
          ['Content-Type', 'application/json'],
          ['Content-Length', '2'],
          ['Content-Length', '3'],
        ],
        body: '{}',
      }),
      400,
      'malformed_request',
      'content-length',
    ],
    [
      'a non-numeric Content-Length',
      request('POST', '/api/push', {
        headers: [
          ['Content-Type', 'application/json'],
          ['Content-Length', 'abc'],
        ],
      }),
      400,
      'malformed_request',
      'content-length',
    ],
    [
      'Content-Length and Transfer-Encoding together',
      request('POST', '/api/push', {
        headers: [
          ['Content-Length', '2'],
          ['Transfer-Encoding', 'chunked'],
        ],
        body: '0\r\n\r\n',
      }),
      400,
      'malformed_request',
      'transfer-encoding',
    ],
    ['a garbage request line', Buffer.from('HELLO THERE\r\n\r\n'), 400, 'malformed_request', null],
    ['an unknown HTTP version', Buffer.from('GET /healthz HTTP/3.7\r\nHost: x\r\n\r\n'), 400, 'malformed_request', null],
    ['a header without a colon', Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n'), 400, 'malformed_request', null],
    ['headers over 16 KiB', request('GET', '/healthz', { headers: [['X-Big', 'b'.repeat(20000)]] }), 431, 'headers_too_large', null],
    ['a URL over 16 KiB', request('GET', `/api/products/${'u'.repeat(20000)}/stats`), 431, 'headers_too_large', null],
    ['HTTP/1.1 without Host', request('GET', '/healthz', { noHost: true }), 400, 'missing', 'host'],
    ['an Expect the server cannot meet', request('GET', '/healthz', { headers: [['Expect', 'magic']] }), 417, 'expectation_failed', 'expect'],
  ];

  test.each(cases)('%s', async (_label, bytes, status, code, field) => {
    const x = await exchange(api.url, [bytes], { expect: 1 });
    expect(x.responses).toHaveLength(1);
    expectError(x.responses[0], status, code, field);
    expect(x.responses[0].body.toString()).not.toMatch(/Client Error|statusCode/);
  });

  test('CONNECT is a 405 in the error model', async () => {
    const x = await exchange(api.url, [Buffer.from('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')], { expect: 1 });
    expectError(x.responses[0], 405, 'method_not_allowed', null);
  });

  test('Expect: 100-continue works', async () => {
    const body = '{"name":"Continue","score":1}';
    const x = await exchange(api.url, [jsonPush(body, [['Expect', '100-continue']])], { expect: 1 });
    expect([x.responses[0].status, x.responses[0].json.count]).toEqual([200, 1]);
  });
});

describe('5. invalid UTF-8 in a JSON body is refused, naming the field', () => {
  const invalid = (prefix: string, suffix: string) => Buffer.concat([Buffer.from(prefix), Buffer.from([0xff, 0xfe]), Buffer.from(suffix)]);

  test.each([
    ['in name (fast path)', jsonPush(invalid('{"name":"X', '","score":1}')), 'name'],
    ['in username', jsonPush(invalid('{"name":"X","score":1,"username":"u', '"}')), 'username'],
    ['in an unknown property', jsonPush(invalid('{"name":"X","score":1,"extra":"', '"}')), 'extra'],
    [
      'in name (chunked: the general path)',
      request('POST', '/api/push', {
        headers: [
          ['Content-Type', 'application/json'],
          ['Transfer-Encoding', 'chunked'],
        ],
        body: Buffer.concat([Buffer.from('18\r\n'), invalid('{"name":"X', '","score":1}'), Buffer.from('\r\n0\r\n\r\n')]), // 0x18: 24 bytes
      }),
      'name',
    ],
  ])('%s', async (_label, bytes, field) => {
    const x = await exchange(api.url, [bytes], { expect: 1 });
    expectError(x.responses[0], 400, 'invalid_encoding', field);
    expect(await auditCount('X')).toBe(0);
    expect(await auditCount('X\ufffd\ufffd')).toBe(0);
  });

  test('a query parameter that is not percent-encoded UTF-8 is refused, naming it (not read as its literal text)', async () => {
    for (const [path, field] of [
      ['/statistics?username=%FF', 'username'],
      ['/api/dashboard/names?q=%E0%A4%A', 'q'],
      ['/api/products/Hist/history?interval=%C0%AF', 'interval'],
    ]) {
      const r = await get(path);
      expect([path, r.status, r.body.error.code, r.body.error.field]).toEqual([path, 400, 'invalid_encoding', field]);
    }
  });

  test('valid UTF-8, a genuine U+FFFD included, is accepted as sent', async () => {
    const name = 'Zoë \ufffd 🎉';
    const r = await push(name, 1);
    expect([r.status, r.body.name]).toEqual([200, name]);
  });
});

describe('6-7. paths and times', () => {
  test('a 10 KB product name in a path is too_long on name, without echoing the URL', async () => {
    const long = 'n'.repeat(10 * 1024);
    for (const path of [`/api/products/${long}/stats`, `/api/products/${long}/history`, `/api/products/${long}/sessions`]) {
      const r = await get(path);
      expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, 'too_long', 'name']);
      expect(r.text.length).toBeLessThan(500);
    }
  });

  test('an unknown route does not echo a long URL', async () => {
    const r = await get(`/${'z'.repeat(5000)}`);
    expect([r.status, r.body.error.code]).toEqual([404, 'not_found']);
    expect(r.text.length).toBeLessThan(500);
  });

  test('years 0000-0099 are ordinary years', async () => {
    const r = await get('/api/products/Hist/stats?from=0000-01-01T00:00:00Z&to=0099-12-31');
    expect(r.status).toBe(200);
    expect([r.body.from, r.body.to, r.body.count]).toEqual(['0000-01-01T00:00:00.000Z', '0099-12-31T00:00:00.000Z', 0]);
    const h = await get('/api/products/Hist/history?from=0050-02-28&interval=day');
    expect([h.status, h.body.from, h.body.buckets.length]).toEqual([200, '0050-02-28T00:00:00.000Z', 1]);
    expect((await get('/api/products/Hist/stats?from=0001-02-29')).body.error).toMatchObject({ code: 'invalid_time', field: 'from' }); // year 1 is not a leap year
  });
});

describe('8. slow clients are timed out in the error model', () => {
  test('a declared but unsent body: 408 after the request timeout, connection closed', async () => {
    const head = request('POST', '/api/push', {
      headers: [
        ['Content-Type', 'application/json'],
        ['Content-Length', '30'],
      ],
    });
    const x = await exchange(api.url, [head], { expect: 1, untilClose: true, timeoutMs: 20000 });
    expectError(x.responses[0], 408, 'request_timeout', null);
    expect(x.closed).toBe(true);
  });

  test('an unterminated chunked body: 408, connection closed', async () => {
    const head = request('POST', '/api/push', {
      headers: [
        ['Content-Type', 'application/json'],
        ['Transfer-Encoding', 'chunked'],
      ],
      body: '5\r\n{"nam\r\n',
    });
    const x = await exchange(api.url, [head], { expect: 1, untilClose: true, timeoutMs: 20000 });
    expectError(x.responses[0], 408, 'request_timeout', null);
    expect(x.closed).toBe(true);
  });

  test('headers that never end: 408 after the headers timeout', async () => {
    const x = await exchange(api.url, ['GET /healthz HTTP/1.1\r\nHost: x\r\n'], { expect: 1, untilClose: true, timeoutMs: 20000 });
    expectError(x.responses[0], 408, 'request_timeout', null);
  });

  test('an idle keep-alive connection is closed after the keep-alive timeout, without a response', async () => {
    const x = await exchange(api.url, [request('GET', '/healthz')], { expect: 1, untilClose: true, timeoutMs: 20000 });
    expect(x.responses.map((r) => r.status)).toEqual([200]);
    expect(x.responses[0].headers['keep-alive']).toBe('timeout=2');
    expect([x.closed, x.rest.length]).toEqual([true, 0]);
  });
});

test('SIGTERM with a request in flight and an idle keep-alive connection: the request is answered with Connection: close, the process exits 0 at once', async () => {
  const stopping = await startApi(t, [], {
    ...TIMEOUTS,
    DASY_API_KEEPALIVE_TIMEOUT_MS: '60000',
    AD_UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/vast`,
  });
  const idle = await connect(stopping.url);
  idle.write(request('GET', '/healthz'));
  expect((await idle.responses(1)).map((r) => [r.status, r.headers['keep-alive']])).toEqual([[200, 'timeout=60']]);
  const busy = await connect(stopping.url);
  busy.write(request('GET', '/ad?sdk_version=1.0&session_id=s&platform=web&username=stop&country_code=DE'));
  await new Promise((r) => setTimeout(r, 300)); // the /ad request waits 1.5 s for its upstream
  const started = Date.now();
  const exited = await stopping.stop();
  const took = Date.now() - started;
  expect(exited).toEqual({ code: 0, signal: null });
  expect((await busy.responses(1)).map((r) => [r.status, r.headers.connection])).toEqual([[200, 'close']]);
  await Promise.all([idle.closed, busy.closed]);
  // well before the 60 s keep-alive timeout that used to hold the process
  expect(took).toBeLessThan(15000);
  expect(stopping.cli.stderr()).toBe('');
});
