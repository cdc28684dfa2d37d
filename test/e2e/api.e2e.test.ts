import * as http from 'http';
import { AddressInfo } from 'net';
import { createKafka } from '../../libs/kafka/client';
import { topicName } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';
import { ApiProcess, call, expectStats, reference, scores, startApi } from './api-client';
import { createTestEnv, rows, TestEnv, waitFor } from './harness';

/**
 * The api over real HTTP: one `dasy api` child process (server and consumers) against real Kafka
 * and PostgreSQL, with DASY_API_TOKEN set and an ad upstream served by the test on loopback.
 */
const TOKEN = 'test-token-1';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const VAST = '<?xml version="1.0"?><VAST version="3.0"><Ad id="upstream-1"><InLine><AdSystem>test</AdSystem></InLine></Ad></VAST>\n';

let t: TestEnv;
let api: ApiProcess;
let upstream: http.Server;
let upstreamMode: 'ok' | 'slow' | 'error' = 'ok';
let upstreamHits = 0;

const push = (name: string, score: number, username?: string) =>
  call('POST', `${api.url}/api/push`, { json: username === undefined ? { name, score } : { name, score, username }, headers: AUTH });
const get = (path: string) => call('GET', `${api.url}${path}`);
const enc = encodeURIComponent;

beforeAll(async () => {
  t = await createTestEnv('api');
  upstream = http.createServer((req, res) => {
    upstreamHits++;
    if (upstreamMode === 'slow') {
      const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/xml' }).end(VAST), 3500);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (upstreamMode === 'error') return void res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream broke');
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(VAST);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  api = await startApi(t, [], { DASY_API_TOKEN: TOKEN, AD_UPSTREAM_URL: `http://127.0.0.1:${port}/vast` });
});

afterAll(async () => {
  await api?.stop();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
  await t?.cleanup();
});

describe('scores', () => {
  test('each push answers once applied, with statistics that include it: mean, population stddev, min, max', async () => {
    const xs = [3.5, 0, 5, 2.25, 4.75, 1, 3.3, 0.1, 4.999, 2];
    for (let i = 0; i < xs.length; i++) {
      const r = await push('Widget', xs[i], i % 2 ? 'ann' : undefined);
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['count', 'max', 'mean', 'min', 'name', 'stddev']);
      expect(r.body.name).toBe('Widget');
      expectStats(r.body, xs.slice(0, i + 1));
    }
    const s = await get('/api/products/Widget/stats');
    expect(s.status).toBe(200);
    expectStats(s.body, xs);
    expect(s.body.name).toBe('Widget');
    expect(s.body.session).toBe(1);
    expect(Date.parse(s.body.first_at)).toBeLessThanOrEqual(Date.parse(s.body.last_at));
    expect(Date.now() - Date.parse(s.body.last_at)).toBeLessThan(60000);

    // Every push is an audit row: name, score, username, time.
    const audit = await rows<{ name: string; score: number; username: string | null; pushed_at: Date }>(
      t.pool,
      `SELECT name, score, username, pushed_at FROM score_pushes WHERE name = 'Widget' ORDER BY kafka_offset`,
    );
    expect(audit.map((a) => [a.name, a.score, a.username])).toEqual(xs.map((x, i) => ['Widget', x, i % 2 ? 'ann' : null]));
    expect(audit.every((a) => a.pushed_at instanceof Date)).toBe(true);
  });

  test('the name is trimmed; a stats GET right after a push sees it', async () => {
    expect((await push('  Spaced  ', 1)).body).toEqual({ name: 'Spaced', count: 1, mean: 1, stddev: 0, min: 1, max: 1 });
    expect((await get(`/api/products/${enc('Spaced')}/stats`)).body.count).toBe(1);
    const odd = 'ÄÖ / ? # % "quoted" 😀';
    expect((await push(odd, 2.5)).body.name).toBe(odd);
    expect((await get(`/api/products/${enc(odd)}/stats`)).body).toMatchObject({ name: odd, count: 1, mean: 2.5 });
  });

  test('concurrent pushes to one product from many clients: every push counted once, each client sees its own', async () => {
    const clients = 40;
    const each = 15;
    const values = scores(clients * each, 99);
    const seen: number[][] = [];
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const counts: number[] = [];
        for (let i = 0; i < each; i++) {
          const r = await push('Crowded', values[c * each + i], `client-${c}`);
          expect(r.status).toBe(200);
          counts.push(r.body.count);
        }
        seen.push(counts);
      }),
    );
    // A client's later push is applied after its earlier one: its counts only grow.
    for (const counts of seen) for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThan(counts[i - 1]);
    expect(Math.max(...seen.flat())).toBe(clients * each);
    const s = await get('/api/products/Crowded/stats');
    expectStats(s.body, values);
    expect(await rows(t.pool, `SELECT count(*)::int AS n FROM score_pushes WHERE name = 'Crowded'`)).toEqual([{ n: clients * each }]);
  });

  test('reset starts a new session; sessions keep their final statistics, who reset and when', async () => {
    const first = [1, 2, 4.5];
    for (const x of first) await push('Gadget', x);
    const r1 = await call('POST', `${api.url}/api/products/Gadget/reset`, { json: { username: 'ops' }, headers: AUTH });
    expect(r1.status).toBe(200);
    expect(r1.body.name).toBe('Gadget');
    expect(r1.body.session).toBe(2);
    expectStats(r1.body.ended, first);
    expect(r1.body.ended).toMatchObject({ session: 1, current: false, reset_by: 'ops' });

    const after = await get('/api/products/Gadget/stats');
    expect(after.status).toBe(200);
    expectStats(after.body, []);
    expect(after.body).toMatchObject({ session: 2, first_at: null, last_at: null });

    const second = [5, 0];
    expectStats((await push('Gadget', 5)).body, [5]);
    expectStats((await push('Gadget', 0)).body, second);
    // No body at all is fine too: reset_by stays empty.
    const r2 = await call('POST', `${api.url}/api/products/Gadget/reset`, { headers: AUTH });
    expect(r2.status).toBe(200);
    expect(r2.body.session).toBe(3);
    expect(r2.body.ended).toMatchObject({ session: 2, reset_by: null });

    const s = await get('/api/products/Gadget/sessions');
    expect(s.status).toBe(200);
    expect(s.body.name).toBe('Gadget');
    const list = s.body.sessions;
    expect(list.map((x: any) => [x.session, x.current, x.reset_by])).toEqual([
      [1, false, 'ops'],
      [2, false, null],
      [3, true, null],
    ]);
    expectStats(list[0], first);
    expectStats(list[1], second);
    expectStats(list[2], []);
    expect(list[1].started_at).toBe(list[0].ended_at);
    expect(list[2].started_at).toBe(list[1].ended_at);
    expect(list[2].ended_at).toBeNull();
    expect(Date.parse(list[0].ended_at)).toBeLessThanOrEqual(Date.parse(list[1].ended_at));
    expect(r1.body.ended.ended_at).toBe(list[0].ended_at);
  });

  test('unknown products are 404 with the field named, on every read and on reset', async () => {
    for (const path of ['stats', 'stats?from=2024-01-01', 'history', 'sessions']) {
      const r = await get(`/api/products/Nope/${path}`);
      expect([path, r.status, r.body.error.code, r.body.error.field]).toEqual([path, 404, 'not_found', 'name']);
    }
    const r = await call('POST', `${api.url}/api/products/Nope/reset`, { headers: AUTH });
    expect([r.status, r.body.error.code, r.body.error.field]).toEqual([404, 'not_found', 'name']);
  });
});

describe('windows and history from minute buckets', () => {
  // Pushes with known times, written to the topic as the api writes them (key = name).
  const at = (s: string) => Date.parse(s);
  const timed: [string, number][] = [
    ['2024-03-01T10:00:10Z', 1],
    ['2024-03-01T10:00:50Z', 2],
    ['2024-03-01T10:01:30Z', 4],
    ['2024-03-01T10:59:59.999Z', 5],
    ['2024-03-01T11:05:00Z', 3],
    ['2024-03-02T09:00:00Z', 0.5],
  ];
  const name = 'Timed';
  const values = (from: string, to: string) => timed.filter(([s]) => at(s) >= at(from) && at(s) < at(to)).map(([, x]) => x);

  beforeAll(async () => {
    const kafka = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'api-test', logger: createLogger('test') });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: Number.MAX_SAFE_INTEGER },
    });
    await producer.connect();
    await producer.send({
      topic: topicName(t.namespace, 'scores'),
      acks: -1,
      messages: timed.map(([s, score]) => ({ key: name, value: JSON.stringify({ type: 'push', name, score, username: null, at: at(s) }) })),
    });
    await producer.disconnect();
    await waitFor('timed pushes applied', async () => (await get(`/api/products/${name}/stats`)).body.count === timed.length);
  });

  test('the whole current session', async () => {
    const s = await get(`/api/products/${name}/stats`);
    expectStats(
      s.body,
      timed.map(([, x]) => x),
    );
    expect(s.body.first_at).toBe('2024-03-01T10:00:10.000Z');
    expect(s.body.last_at).toBe('2024-03-02T09:00:00.000Z');
  });

  test.each([
    ['2024-03-01T10:00:00Z', '2024-03-01T10:01:00Z'],
    ['2024-03-01T10:00:00Z', '2024-03-01T11:00:00Z'],
    ['2024-03-01T10:01:00Z', '2024-03-02T00:00:00Z'],
    ['2024-03-01T00:00:00Z', '2024-03-03T00:00:00Z'],
    ['2024-03-02T09:00:00Z', '2024-03-02T09:01:00Z'],
  ])('window [%s, %s)', async (from, to) => {
    const s = await get(`/api/products/${name}/stats?from=${enc(from)}&to=${enc(to)}`);
    expect(s.status).toBe(200);
    expectStats(s.body, values(from, to));
    expect(s.body.from).toBe(new Date(from).toISOString());
    expect(s.body.to).toBe(new Date(to).toISOString());
  });

  test('a window resolves to whole minutes: a minute counts when it overlaps [from, to)', async () => {
    const s = await get(`/api/products/${name}/stats?from=${enc('2024-03-01T10:00:30Z')}&to=${enc('2024-03-01T10:00:40Z')}`);
    expectStats(s.body, [1, 2]);
    expect([s.body.first_at, s.body.last_at]).toEqual(['2024-03-01T10:00:10.000Z', '2024-03-01T10:00:50.000Z']);
  });

  test('open-ended windows, an offset written with an unencoded +, and an empty window', async () => {
    expectStats((await get(`/api/products/${name}/stats?from=${enc('2024-03-01T11:00:00Z')}`)).body, [3, 0.5]);
    expectStats((await get(`/api/products/${name}/stats?to=${enc('2024-03-01T10:01:00Z')}`)).body, [1, 2]);
    // '+' unencoded arrives as a space; it is read as '+': 11:00+01:00 is 10:00Z.
    expectStats((await get(`/api/products/${name}/stats?from=2024-03-01T11:00:00+01:00&to=2024-03-01T11:01:00+01:00`)).body, [1, 2]);
    const empty = await get(`/api/products/${name}/stats?from=${enc('2025-01-01T00:00:00Z')}`);
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ name, count: 0, mean: null, stddev: null, min: null, max: null, first_at: null, last_at: null });
  });

  test('history by minute, hour and day: the mean over time, bucket by bucket', async () => {
    const bucket = (start: string, xs: number[]) => {
      const r = reference(xs);
      return { start, count: r.count, mean: r.mean, stddev: r.stddev, min: r.min, max: r.max };
    };
    const close = (actual: any[], expected: any[]) => {
      expect(actual.map((b) => [b.start, b.count, b.min, b.max])).toEqual(expected.map((b) => [b.start, b.count, b.min, b.max]));
      actual.forEach((b, i) => {
        expect(b.mean).toBeCloseTo(expected[i].mean, 9);
        expect(b.stddev).toBeCloseTo(expected[i].stddev, 9);
      });
    };
    const minute = await get(`/api/products/${name}/history?interval=minute`);
    expect(minute.status).toBe(200);
    expect(minute.body).toMatchObject({ name, interval: 'minute', from: null, to: null });
    close(minute.body.buckets, [
      bucket('2024-03-01T10:00:00.000Z', [1, 2]),
      bucket('2024-03-01T10:01:00.000Z', [4]),
      bucket('2024-03-01T10:59:00.000Z', [5]),
      bucket('2024-03-01T11:05:00.000Z', [3]),
      bucket('2024-03-02T09:00:00.000Z', [0.5]),
    ]);
    close((await get(`/api/products/${name}/history?interval=hour`)).body.buckets, [
      bucket('2024-03-01T10:00:00.000Z', [1, 2, 4, 5]),
      bucket('2024-03-01T11:00:00.000Z', [3]),
      bucket('2024-03-02T09:00:00.000Z', [0.5]),
    ]);
    close((await get(`/api/products/${name}/history?interval=day`)).body.buckets, [
      bucket('2024-03-01T00:00:00.000Z', [1, 2, 4, 5, 3]),
      bucket('2024-03-02T00:00:00.000Z', [0.5]),
    ]);
    // The default interval is minute; a window narrows the history.
    const narrowed = await get(`/api/products/${name}/history?from=${enc('2024-03-01T10:01:00Z')}&to=${enc('2024-03-01T11:00:00Z')}`);
    expect(narrowed.body.interval).toBe('minute');
    close(narrowed.body.buckets, [bucket('2024-03-01T10:01:00.000Z', [4]), bucket('2024-03-01T10:59:00.000Z', [5])]);
  });

  test('resets are ordered exactly with the pushes of their product, also inside one batch', async () => {
    const kafka = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'api-test', logger: createLogger('test') });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: Number.MAX_SAFE_INTEGER },
    });
    await producer.connect();
    const base = at('2024-04-01T00:00:00Z');
    const seq = [
      { type: 'push', score: 1 },
      { type: 'push', score: 2 },
      { type: 'reset', username: 'r1' },
      { type: 'push', score: 4 },
      { type: 'reset', username: 'r2' },
      { type: 'reset', username: 'r3' },
      { type: 'push', score: 5 },
      { type: 'push', score: 3 },
    ];
    // One send: the consumer gets them in one batch (mixing in another product's pushes).
    await producer.send({
      topic: topicName(t.namespace, 'scores'),
      acks: -1,
      messages: seq.flatMap((m, i) => [
        { key: 'Ordered', value: JSON.stringify({ ...m, name: 'Ordered', username: (m as any).username ?? null, at: base + i * 1000 }) },
        { key: 'Other', value: JSON.stringify({ type: 'push', name: 'Other', score: i % 5, username: null, at: base + i * 1000 }) },
      ]),
    });
    await producer.disconnect();
    await waitFor('the other product applied', async () => (await get('/api/products/Other/stats')).body.count === seq.length);
    const list = await waitFor('every reset and push applied', async () => {
      const r = await get('/api/products/Ordered/sessions');
      return r.status === 200 && r.body.sessions.length === 4 && r.body.sessions[3].count === 2 && r.body.sessions;
    });
    expect(list.map((s: any) => [s.session, s.count, s.reset_by, s.current])).toEqual([
      [1, 2, 'r1', false],
      [2, 1, 'r2', false],
      [3, 0, 'r3', false],
      [4, 2, null, true],
    ]);
    expectStats(list[0], [1, 2]);
    expectStats(list[1], [4]);
    expectStats(list[3], [5, 3]);
    expect(list.map((s: any) => s.ended_at)).toEqual(['2024-04-01T00:00:02.000Z', '2024-04-01T00:00:04.000Z', '2024-04-01T00:00:05.000Z', null]);
  });
});

describe('ad requests', () => {
  const q = (username: string, sdk: string) => `sdk_version=${sdk}&session_id=s-${username}&platform=ios&username=${username}&country_code=de`;

  test('statistics of an unseen username: zeros and a null fill rate', async () => {
    const r = await get('/statistics?username=nobody');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ filter: 'username', value: 'nobody', ad_requests: 0, impressions: 0, fill_rate: null });
  });

  test('ad requests and impressions are counted per username and per sdk_version, with the fill rate', async () => {
    const hits = async (path: string, n: number) => {
      for (let i = 0; i < n; i++) {
        const r = await get(path);
        expect(r.status).toBe(200);
      }
    };
    await hits(`/ad?${q('u1', '1.2.3')}`, 4);
    await hits(`/impression?${q('u1', '1.2.3')}`, 3);
    await hits(`/ad?${q('u2', '1.2.3')}`, 2);
    await hits(`/ad?${q('u3', '2.0')}`, 1);
    await hits(`/impression?${q('u4', '2.0')}`, 1);
    const expected = {
      'username=u1': { filter: 'username', value: 'u1', ad_requests: 4, impressions: 3, fill_rate: 0.75 },
      'username=u2': { filter: 'username', value: 'u2', ad_requests: 2, impressions: 0, fill_rate: 0 },
      'username=u4': { filter: 'username', value: 'u4', ad_requests: 0, impressions: 1, fill_rate: null },
      'sdk_version=1.2.3': { filter: 'sdk_version', value: '1.2.3', ad_requests: 6, impressions: 3, fill_rate: 0.5 },
      'sdk=1.2.3': { filter: 'sdk_version', value: '1.2.3', ad_requests: 6, impressions: 3, fill_rate: 0.5 },
      'sdk=2.0': { filter: 'sdk_version', value: '2.0', ad_requests: 1, impressions: 1, fill_rate: 1 },
    };
    for (const [query, body] of Object.entries(expected)) {
      await waitFor(`statistics?${query}`, async () => JSON.stringify((await get(`/statistics?${query}`)).body) === JSON.stringify(body), 30000);
    }
    const r = await call('GET', `${api.url}/impression?${q('u1', '1.2.3')}`);
    expect(r.body).toEqual({ status: 'ok' });
  });

  test('/ad passes the upstream VAST through unchanged', async () => {
    upstreamMode = 'ok';
    const before = upstreamHits;
    const r = await get(`/ad?${q('v1', '3.1')}`);
    expect(r.status).toBe(200);
    expect(r.text).toBe(VAST);
    expect(upstreamHits).toBe(before + 1); // asked the upstream once, not a cached or built-in answer
    expect(r.headers.get('content-type')).toBe('text/xml; charset=utf-8');
  });

  test('an upstream slower than 2 s is a 502 JSON error after 2 s; a failing upstream is a 502; both still count', async () => {
    upstreamMode = 'slow';
    const started = Date.now();
    const slow = await get(`/ad?${q('v2', '3.2')}`);
    const took = Date.now() - started;
    expect(slow.status).toBe(502);
    expect(slow.body).toEqual({ error: { code: 'upstream_timeout', message: 'the ad upstream did not answer within 2 s', field: null } });
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(3400);

    upstreamMode = 'error';
    const failed = await get(`/ad?${q('v2', '3.2')}`);
    expect(failed.status).toBe(502);
    expect(failed.body).toEqual({ error: { code: 'upstream_error', message: 'the ad upstream answered HTTP 500', field: null } });
    upstreamMode = 'ok';
    await waitFor('failed ad requests counted', async () => (await get('/statistics?username=v2')).body.ad_requests === 2, 30000);
  });
});

describe('validation: every rule answers 4xx {"error":{"code","message","field"}}', () => {
  const ad = { sdk_version: '1.2', session_id: 's', platform: 'web', username: 'val', country_code: 'FR' };
  const adQuery = (over: Record<string, string | string[] | undefined>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...ad, ...over })) {
      if (v === undefined) continue;
      for (const one of ([] as string[]).concat(v)) p.append(k, one);
    }
    return p.toString();
  };
  const cases: [string, string, string, { json?: unknown; raw?: string; headers?: Record<string, string> }, number, string, string | null][] = [
    ['push: body is an array', 'POST', '/api/push', { json: [1] }, 400, 'invalid_body', null],
    ['push: no body', 'POST', '/api/push', { headers: { 'content-type': 'application/json' } }, 400, 'invalid_body', null],
    ['push: invalid JSON', 'POST', '/api/push', { raw: '{"name":', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json', null],
    [
      'push: not JSON content type',
      'POST',
      '/api/push',
      { raw: 'name=x&score=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
      'unsupported_media_type',
      null,
    ],
    [
      'push: text/plain',
      'POST',
      '/api/push',
      { raw: '{"name":"x","score":1}', headers: { 'content-type': 'text/plain' } },
      415,
      'unsupported_media_type',
      null,
    ],
    ['push: missing name', 'POST', '/api/push', { json: { score: 1 } }, 400, 'missing', 'name'],
    ['push: name not a string', 'POST', '/api/push', { json: { name: 12, score: 1 } }, 400, 'invalid_type', 'name'],
    ['push: blank name', 'POST', '/api/push', { json: { name: '   ', score: 1 } }, 400, 'empty', 'name'],
    ['push: name of 256 characters', 'POST', '/api/push', { json: { name: 'n'.repeat(256), score: 1 } }, 400, 'too_long', 'name'],
    ['push: name with NUL', 'POST', '/api/push', { json: { name: 'a\u0000b', score: 1 } }, 400, 'invalid_value', 'name'],
    ['push: missing score', 'POST', '/api/push', { json: { name: 'x' } }, 400, 'missing', 'score'],
    ['push: score as a string', 'POST', '/api/push', { json: { name: 'x', score: '3' } }, 400, 'invalid_type', 'score'],
    [
      'push: score 1e999 (Infinity)',
      'POST',
      '/api/push',
      { raw: '{"name":"x","score":1e999}', headers: { 'content-type': 'application/json' } },
      400,
      'not_finite',
      'score',
    ],
    ['push: score below 0', 'POST', '/api/push', { json: { name: 'x', score: -0.01 } }, 400, 'out_of_range', 'score'],
    ['push: score above 5', 'POST', '/api/push', { json: { name: 'x', score: 5.01 } }, 400, 'out_of_range', 'score'],
    ['push: username not a string', 'POST', '/api/push', { json: { name: 'x', score: 1, username: 5 } }, 400, 'invalid_type', 'username'],
    ['push: username of 65 characters', 'POST', '/api/push', { json: { name: 'x', score: 1, username: 'u'.repeat(65) } }, 400, 'too_long', 'username'],
    ['reset: username not a string', 'POST', '/api/products/Widget/reset', { json: { username: [] } }, 400, 'invalid_type', 'username'],
    ['stats: name of 256 characters', 'GET', `/api/products/${'n'.repeat(256)}/stats`, {}, 400, 'too_long', 'name'],
    ['stats: from not a time', 'GET', '/api/products/Widget/stats?from=yesterday', {}, 400, 'invalid_time', 'from'],
    ['stats: to not a date', 'GET', '/api/products/Widget/stats?to=2024-02-30', {}, 400, 'invalid_time', 'to'],
    ['stats: from after to', 'GET', '/api/products/Widget/stats?from=2024-03-02&to=2024-03-01', {}, 400, 'invalid_range', 'to'],
    ['stats: from given twice', 'GET', '/api/products/Widget/stats?from=2024-03-01&from=2024-03-02', {}, 400, 'invalid_type', 'from'],
    ['history: unknown interval', 'GET', '/api/products/Widget/history?interval=week', {}, 400, 'invalid_value', 'interval'],
    ['history: bad from', 'GET', '/api/products/Widget/history?interval=day&from=1.1.2024', {}, 400, 'invalid_time', 'from'],
    ...(['sdk_version', 'session_id', 'platform', 'username', 'country_code'] as const).flatMap((field) =>
      (['ad', 'impression'] as const).map(
        (path) => [`${path}: missing ${field}`, 'GET', `/${path}?${adQuery({ [field]: undefined })}`, {}, 400, 'missing', field] as (typeof cases)[number],
      ),
    ),
    ['ad: sdk_version not dotted digits', 'GET', `/ad?${adQuery({ sdk_version: '1.2-beta' })}`, {}, 400, 'invalid_format', 'sdk_version'],
    ['ad: country_code of 3 letters', 'GET', `/ad?${adQuery({ country_code: 'FRA' })}`, {}, 400, 'invalid_format', 'country_code'],
    ['impression: country_code with a digit', 'GET', `/impression?${adQuery({ country_code: 'F1' })}`, {}, 400, 'invalid_format', 'country_code'],
    ['ad: empty session_id', 'GET', `/ad?${adQuery({ session_id: '' })}`, {}, 400, 'empty', 'session_id'],
    ['ad: platform of 65 characters', 'GET', `/ad?${adQuery({ platform: 'p'.repeat(65) })}`, {}, 400, 'too_long', 'platform'],
    ['impression: username of 65 characters', 'GET', `/impression?${adQuery({ username: 'u'.repeat(65) })}`, {}, 400, 'too_long', 'username'],
    ['impression: session_id of 65 characters', 'GET', `/impression?${adQuery({ session_id: 's'.repeat(65) })}`, {}, 400, 'too_long', 'session_id'],
    ['ad: username given twice', 'GET', `/ad?${adQuery({ username: ['a', 'b'] })}`, {}, 400, 'invalid_type', 'username'],
    ['statistics: no filter', 'GET', '/statistics', {}, 400, 'missing', 'username'],
    ['statistics: two filters', 'GET', '/statistics?username=a&sdk=1.2', {}, 400, 'ambiguous', 'sdk'],
    ['statistics: sdk_version and its alias', 'GET', '/statistics?sdk_version=1.2&sdk=1.2', {}, 400, 'ambiguous', 'sdk'],
    ['statistics: sdk_version not dotted digits', 'GET', '/statistics?sdk_version=abc', {}, 400, 'invalid_format', 'sdk_version'],
    ['statistics: sdk not dotted digits', 'GET', '/statistics?sdk=1.', {}, 400, 'invalid_format', 'sdk'],
    ['statistics: empty username', 'GET', '/statistics?username=', {}, 400, 'empty', 'username'],
    ['unknown route', 'GET', '/api/nothing', {}, 404, 'not_found', null],
    ['malformed percent-encoding', 'GET', '/api/products/%E0%A4%A/stats', {}, 400, 'bad_url', null],
  ];

  test.each(cases)('%s (%s %s) → %#', async (_label, method, path, options, status, code, field) => {
    const headers = method === 'POST' ? { ...AUTH, ...options.headers } : options.headers;
    const r = await call(method, `${api.url}${path}`, { ...options, headers });
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(r.body)).toEqual(['error']);
    expect(Object.keys(r.body.error).sort()).toEqual(['code', 'field', 'message']);
    expect([r.status, r.body.error.code, r.body.error.field]).toEqual([status, code, field]);
    expect(typeof r.body.error.message).toBe('string');
    expect(r.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+|\.js:\d+/); // never a stack trace
  });

  test('the boundaries themselves are accepted: scores 0 and 5, a name of 255 characters, a username of 64', async () => {
    const long = 'L'.repeat(255);
    expect((await push(long, 0, 'u'.repeat(64))).body).toEqual({ name: long, count: 1, mean: 0, stddev: 0, min: 0, max: 0 });
    expect((await push(long, 5)).body).toMatchObject({ count: 2, mean: 2.5, stddev: 2.5, min: 0, max: 5 });
    expect((await get(`/api/products/${long}/stats`)).status).toBe(200);
  });

  test('a body over 1 MiB is refused with 413; just under it is read', async () => {
    const big = await call('POST', `${api.url}/api/push`, { json: { name: 'Big', score: 1, pad: 'x'.repeat(1024 * 1024) }, headers: AUTH });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatchObject({ code: 'payload_too_large', field: null });
    const overhead = JSON.stringify({ name: 'Big', score: 1, pad: '' }).length;
    const fits = await call('POST', `${api.url}/api/push`, { json: { name: 'Big', score: 1, pad: 'x'.repeat(1024 * 1024 - overhead) }, headers: AUTH });
    expect(fits.status).toBe(200);
    expect(fits.body.count).toBe(1);
  });
});

describe('DASY_API_TOKEN guards the write endpoints', () => {
  test.each([
    ['no Authorization', {}, 'this endpoint needs Authorization: Bearer <DASY_API_TOKEN>'],
    ['a wrong token', { authorization: 'Bearer nope' }, 'the bearer token is not valid'],
    ['another scheme', { authorization: `Basic ${TOKEN}` }, 'this endpoint needs Authorization: Bearer <DASY_API_TOKEN>'],
  ])('%s → 401 on push, batch and reset', async (_label, headers, message) => {
    for (const path of ['/api/push', '/api/push/batch', '/api/products/Widget/reset']) {
      const json = path === '/api/push/batch' ? [{ name: 'Guarded', score: 1 }] : { name: 'Guarded', score: 1 };
      const r = await call('POST', `${api.url}${path}`, { json, headers });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(r.body).toEqual({ error: { code: 'unauthorized', message, field: 'authorization' } });
    }
    expect((await get('/api/products/Guarded/stats')).status).toBe(404); // nothing was pushed
  });

  test('reads need no token', async () => {
    expect((await get('/api/products/Widget/stats')).status).toBe(200);
    expect((await get('/statistics?username=u1')).status).toBe(200);
    expect((await get('/healthz')).body).toEqual({ status: 'ok', consumers: true, listening: true });
  });
});

test('SIGTERM stops the api (server and consumers) with exit 0, promptly', async () => {
  const started = Date.now();
  const { code, signal } = await api.stop();
  expect(Date.now() - started).toBeLessThan(8000);
  expect({ code, signal }).toEqual({ code: 0, signal: null });
  expect(api.cli.stderr()).toBe('');
});
