import { ApiError } from './validate';
import { firstInvalidUtf8, jsonPathAt, parseJsonBody } from './body';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

function refusal(raw: Buffer): { status: number; code: string; field: string | null } {
  try {
    parseJsonBody(raw);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.statusCode, code: err.code, field: err.field };
  }
  throw new Error('expected a refusal');
}

describe('parseJsonBody', () => {
  test('valid UTF-8 JSON is parsed; an empty or blank body is no body', () => {
    expect(parseJsonBody(bytes('{"name":"Zoë 🎉","score":1}'))).toEqual({ name: 'Zoë 🎉', score: 1 });
    expect(parseJsonBody(bytes(''))).toBeUndefined();
    expect(parseJsonBody(bytes(' \r\n'))).toBeUndefined();
    expect(parseJsonBody(bytes('"', [0xef, 0xbf, 0xbd], '"'))).toBe('\ufffd');
  });

  test('not JSON is invalid_json', () => {
    expect(refusal(bytes('{"name":'))).toEqual({ status: 400, code: 'invalid_json', field: null });
  });

  test.each([
    ['in a string value', bytes('{"name":"X', [0xff, 0xfe], '","score":1}'), 'name'],
    ['in a later property', bytes('{"name":"X","username":"u', [0xc3], '"}'), 'username'],
    ['an overlong encoding', bytes('{"name":"', [0xc0, 0xaf], '"}'), 'name'],
    ['an encoded surrogate', bytes('{"name":"', [0xed, 0xa0, 0x80], '"}'), 'name'],
    ['beyond U+10FFFF', bytes('{"name":"', [0xf4, 0x90, 0x80, 0x80], '"}'), 'name'],
    ['a truncated sequence at the end', bytes('{"name":"', [0xe2, 0x82]), 'name'],
    ['nested', bytes('{"a":{"b":[1,"', [0x80], '"]}}'), 'a.b.1'],
    ['after an escaped quote in a key', bytes('{"we\\"ird":"', [0xff], '"}'), 'we"ird'],
    ['in a property name', bytes('{"na', [0xff], 'me":"x"}'), null],
    ['outside any string', bytes('{"name":"x",', [0xff], '}'), null],
    ['at the top level', bytes('"', [0xff], '"'), null],
  ])('invalid UTF-8 %s is invalid_encoding naming the field', (_label, raw, field) => {
    expect(refusal(raw)).toEqual({ status: 400, code: 'invalid_encoding', field });
  });
});

test('firstInvalidUtf8 finds the first byte that is not part of a valid sequence', () => {
  expect(firstInvalidUtf8(bytes('abc'))).toBe(-1);
  expect(firstInvalidUtf8(bytes('é€😀'))).toBe(-1);
  expect(firstInvalidUtf8(bytes('ab', [0xff]))).toBe(2);
  expect(firstInvalidUtf8(bytes('é', [0xe2, 0x82, 0x41]))).toBe(2);
  expect(firstInvalidUtf8(bytes([0xf0, 0x9f, 0x98]))).toBe(0);
});

test('jsonPathAt names the property whose value holds a position of a JSON text', () => {
  expect(jsonPathAt('{"name":"X')).toEqual({ path: 'name', inString: true });
  expect(jsonPathAt('{"a":[{"b":"c"},{"d":"')).toEqual({ path: 'a.1.d', inString: true });
  expect(jsonPathAt('{"na')).toEqual({ path: null, inString: true });
  expect(jsonPathAt('{"a":"\\\\"')).toEqual({ path: null, inString: false });
});
