import { cursorValue, decodeCursor, encodeCursor } from './dataset-cursor';
import { ApiError } from './validate';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.statusCode, code: err.code, field: err.field };
  }
  throw new Error('expected a refusal');
};
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

test('a cursor is base64url of a JSON array, and decodes to its values', () => {
  expect(encodeCursor(['o2'])).toBe('WyJvMiJd');
  for (const values of [['o2'], ['a', '1', '2024-01-05'], [null, 'x'], ['107.25', 'bob'], ['é😀 "quoted" /?&=', '-9223372036854775808']]) {
    const cursor = encodeCursor(values);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, values.length, new Set([0]))).toEqual(values);
  }
});

test.each([
  ['not base64url', 'a+b/', 1],
  ['padding', 'WyJvMiJd==', 1],
  ['empty JSON', b64(''), 1],
  ['not JSON', b64('["o2"'), 1],
  ['not an array', b64('{"a":1}'), 1],
  ['too few values', b64('["a"]'), 2],
  ['too many values', b64('["a","b"]'), 1],
  ['a number', b64('[1]'), 1],
  ['a null where none may be', b64('[null]'), 1],
  ['a NUL', b64('["a\\u0000"]'), 1],
  ['a lone surrogate', b64('["\\ud800"]'), 1],
  ['too long', 'A'.repeat(40000), 1],
])('%s: 400 naming after', (_what, cursor, length) => {
  expect(refusal(() => decodeCursor(cursor, length))).toEqual({ status: 400, code: 'invalid_value', field: 'after' });
});

test('a null is taken only where allowed', () => {
  expect(decodeCursor(b64('[null,"b"]'), 2, new Set([0]))).toEqual([null, 'b']);
  expect(refusal(() => decodeCursor(b64('["a",null]'), 2, new Set([0])))).toEqual({ status: 400, code: 'invalid_value', field: 'after' });
});

test('a row value as the text its column casts from', () => {
  expect([cursorValue('x'), cursorValue(12), cursorValue(-9007199254740991), cursorValue(true), cursorValue(false), cursorValue(null)]).toEqual([
    'x',
    '12',
    '-9007199254740991',
    'true',
    'false',
    null,
  ]);
  expect(() => cursorValue({})).toThrow('not a sort value');
});
