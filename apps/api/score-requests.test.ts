import { fingerprint, parseIdempotencyKey, unkeyedRequest } from './score-requests';
import { ApiError } from './validate';

test('Idempotency-Key: a structured-field string, or a bare token of visible ASCII', () => {
  expect(parseIdempotencyKey(undefined)).toBeUndefined();
  expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
  expect(parseIdempotencyKey('"a \\"quoted\\" \\\\ key"')).toBe('a "quoted" \\ key');
  expect(parseIdempotencyKey('plain-token_1')).toBe('plain-token_1');
  expect(parseIdempotencyKey(' "padded" ')).toBe('padded');
  expect(parseIdempotencyKey('x'.repeat(255))).toBe('x'.repeat(255));
});

test.each([
  ['empty quotes', '""'],
  ['an unterminated string', '"abc'],
  ['an unescaped quote', '"a"b"'],
  ['a bad escape', '"a\\nb"'],
  ['a space in a token', 'a b'],
  ['non-ASCII', '"clé"'],
  ['too long', 'x'.repeat(256)],
  ['twice', ['a', 'b']],
])('Idempotency-Key: %s is a 400 naming the header', (_what, raw) => {
  let error: unknown;
  try {
    parseIdempotencyKey(raw);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ApiError);
  const e = error as ApiError;
  expect([e.statusCode, e.code, e.field]).toEqual([400, 'invalid_value', 'idempotency-key']);
});

test('a fingerprint is the route and the validated fields', () => {
  const a = fingerprint('POST /api/push', { name: 'W', score: 1, username: null });
  expect(fingerprint('POST /api/push', { name: 'W', score: 1, username: null })).toBe(a);
  expect(fingerprint('POST /api/push', { name: 'W', score: 2, username: null })).not.toBe(a);
  expect(fingerprint('POST /api/products/:name/reset', { name: 'W', score: 1, username: null })).not.toBe(a);
});

test('requests without a key get distinct ids, attempt 1', () => {
  const a = unkeyedRequest();
  const b = unkeyedRequest();
  expect(a.key).toMatch(/^r:[A-Za-z0-9_-]{22}$/);
  expect(a.key).not.toBe(b.key);
  expect([a.attempt, a.keyed]).toEqual([1, false]);
});
