import { ApiProcess, call, startApi } from './api-client';
import { createTestEnv, rows, TestEnv } from './harness';

/**
 * `POST /api/push/batch` over real HTTP against one `dasy api` child process (server and
 * consumers): each push's outcome exact, the limits, and an idempotent retry applied once
 * (the statistics read back from PostgreSQL).
 */
let t: TestEnv;
let api: ApiProcess;

const batch = (pushes: unknown, headers: Record<string, string> = {}) => call('POST', `${api.url}/api/push/batch`, { json: pushes, headers });
const stats = (name: string) => ({ name, count: 1, mean: 0, stddev: 0, min: 0, max: 0 });
const one = (name: string, score: number) => ({ ...stats(name), mean: score, min: score, max: score });
const counts = async (like: string) =>
  rows<{ name: string; count: number }>(t.pool, 'SELECT name, count::int AS count FROM score_stats WHERE name LIKE $1 ORDER BY name', [like]);
const audited = async (like: string) => (await rows<{ n: number }>(t.pool, 'SELECT count(*)::int AS n FROM score_pushes WHERE name LIKE $1', [like]))[0].n;

beforeAll(async () => {
  t = await createTestEnv('apibatch');
  api = await startApi(t);
});

afterAll(async () => {
  await api?.stop();
  await t?.cleanup();
});

test('valid and invalid pushes: each outcome in order, the valid ones applied, the invalid ones not', async () => {
  const r = await batch([
    { name: 'Mixed A', score: 4 },
    { name: 'Mixed X', score: 7 },
    { name: ' Mixed B ', score: 2.5, username: 'ann' },
    'not a push',
    { score: 1 },
    { name: 'Mixed C', score: 0 },
  ]);
  expect(r.status).toBe(200);
  expect(r.body).toEqual({
    applied: 3,
    failed: 3,
    results: [
      { index: 0, status: 200, stats: one('Mixed A', 4) },
      { index: 1, status: 400, error: { code: 'out_of_range', message: 'push 1: score must be from 0 to 5', field: '1.score' } },
      { index: 2, status: 200, stats: one('Mixed B', 2.5) },
      { index: 3, status: 400, error: { code: 'invalid_body', message: 'push 3 must be a JSON object', field: '3' } },
      { index: 4, status: 400, error: { code: 'missing', message: 'push 4: name is required', field: '4.name' } },
      { index: 5, status: 200, stats: stats('Mixed C') },
    ],
  });
  expect(await counts('Mixed %')).toEqual([
    { name: 'Mixed A', count: 1 },
    { name: 'Mixed B', count: 1 },
    { name: 'Mixed C', count: 1 },
  ]);
  expect(await audited('Mixed %')).toBe(3);
});

test('1,000 pushes are answered once all are applied', async () => {
  const pushes = Array.from({ length: 1000 }, (_, i) => ({ name: `Full ${i % 10}`, score: i % 6 }));
  const r = await batch(pushes);
  expect(r.status).toBe(200);
  expect([r.body.applied, r.body.failed, r.body.results.length]).toEqual([1000, 0, 1000]);
  expect(r.body.results.every((o: { index: number; status: number }, i: number) => o.index === i && o.status === 200)).toBe(true);
  expect(await counts('Full %')).toEqual(Array.from({ length: 10 }, (_, i) => ({ name: `Full ${i}`, count: 100 })));
});

test('a batch over 1,000 pushes, an empty batch, a body that is not an array: 400, nothing applied', async () => {
  const over = await batch(Array.from({ length: 1001 }, (_, i) => ({ name: `Over ${i}`, score: 1 })));
  expect([over.status, over.body]).toEqual([400, { error: { code: 'too_many_pushes', message: 'a batch holds at most 1000 pushes, not 1001', field: null } }]);
  expect([(await batch([])).body]).toEqual([{ error: { code: 'empty', message: 'a batch must hold at least one push', field: null } }]);
  const object = await batch({ name: 'Over 0', score: 1 });
  expect([object.status, object.body]).toEqual([
    400,
    { error: { code: 'invalid_body', message: 'the request body must be a JSON array of pushes', field: null } },
  ]);
  expect(await counts('Over %')).toEqual([]);
});

test('a body over 1 MiB: 413, as for a single push', async () => {
  const pushes = Array.from({ length: 900 }, (_, i) => ({ name: `Large ${i}`, score: 1, username: 'u', pad: 'x'.repeat(1200) }));
  const r = await batch(pushes);
  expect([r.status, r.body]).toEqual([
    413,
    { error: { code: 'payload_too_large', message: 'the request body is larger than 1 MiB (1048576 bytes)', field: null } },
  ]);
  expect(await counts('Large %')).toEqual([]);
});

test('Idempotency-Key: a retry is answered with the first answer, byte for byte, and nothing is applied twice', async () => {
  const key = { 'idempotency-key': `"batch-${process.pid}-${Date.now()}"` };
  const pushes = [
    { name: 'Retry A', score: 1 },
    { name: 'Retry B', score: 5 },
    { name: 'Retry A', score: 'x' },
    { name: 'Retry C', score: 3 },
  ];
  const first = await batch(pushes, key);
  expect(first.status).toBe(200);
  expect(first.body).toEqual({
    applied: 3,
    failed: 1,
    results: [
      { index: 0, status: 200, stats: one('Retry A', 1) },
      { index: 1, status: 200, stats: one('Retry B', 5) },
      { index: 2, status: 400, error: { code: 'invalid_type', message: 'push 2: score must be a number', field: '2.score' } },
      { index: 3, status: 200, stats: one('Retry C', 3) },
    ],
  });
  const retry = await batch(pushes, key);
  expect([retry.status, retry.text]).toEqual([200, first.text]);
  const other = await batch([{ name: 'Retry A', score: 2 }], key);
  expect([other.status, other.body.error.code, other.body.error.field]).toEqual([422, 'idempotency_key_reused', 'idempotency-key']);
  expect(await counts('Retry %')).toEqual([
    { name: 'Retry A', count: 1 },
    { name: 'Retry B', count: 1 },
    { name: 'Retry C', count: 1 },
  ]);
  expect(await audited('Retry %')).toBe(3);
});
