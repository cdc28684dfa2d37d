import {
  ApiError,
  parseIsoTime,
  validateAdRequest,
  validateHistory,
  validateName,
  validatePush,
  validateReset,
  validateQueryEncoding,
  validateSearch,
  validateStatistics,
  validateWindow,
} from './validate';
import { KEY_MAX_BYTES } from '../../libs/db/key-limit';
import { NAME_MAX } from './messages';

/** The error a validator throws, as the client sees it: status, code, field. */
function refusal(fn: () => unknown): { status: number; code: string; field: string | null } {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.statusCode, code: err.code, field: err.field };
  }
  throw new Error('expected a refusal');
}

describe('validatePush', () => {
  test('accepts name, score, username; trims name and username; ignores other properties', () => {
    expect(validatePush({ name: '  Widget  ', score: 4.5, username: ' ann ', extra: 1 })).toEqual({ name: 'Widget', score: 4.5, username: 'ann' });
    expect(validatePush({ name: 'w', score: 0 })).toEqual({ name: 'w', score: 0, username: null });
    expect(validatePush({ name: 'w', score: 5, username: null })).toEqual({ name: 'w', score: 5, username: null });
  });

  test('name of exactly 255 characters (counted as characters, not UTF-16 units) is accepted', () => {
    expect(validatePush({ name: 'a'.repeat(255), score: 1 }).name).toHaveLength(255);
    const emoji = '😀'.repeat(255); // 510 UTF-16 units, 255 characters
    expect(validatePush({ name: emoji, score: 1 }).name).toBe(emoji);
  });

  test.each([
    ['not an object', [], 'invalid_body', null],
    ['null body', null, 'invalid_body', null],
    ['a string body', 'x', 'invalid_body', null],
    ['missing name', { score: 1 }, 'missing', 'name'],
    ['name not a string', { name: 5, score: 1 }, 'invalid_type', 'name'],
    ['name blank', { name: ' \t\n ', score: 1 }, 'empty', 'name'],
    ['name too long', { name: 'a'.repeat(256), score: 1 }, 'too_long', 'name'],
    ['name with NUL', { name: 'a\u0000b', score: 1 }, 'invalid_value', 'name'],
    ['name with a lone surrogate', { name: 'a\ud800b', score: 1 }, 'invalid_value', 'name'],
    ['missing score', { name: 'w' }, 'missing', 'score'],
    ['score null', { name: 'w', score: null }, 'missing', 'score'],
    ['score a string', { name: 'w', score: '3' }, 'invalid_type', 'score'],
    ['score Infinity', { name: 'w', score: Infinity }, 'not_finite', 'score'],
    ['score NaN', { name: 'w', score: NaN }, 'not_finite', 'score'],
    ['score below 0', { name: 'w', score: -0.0001 }, 'out_of_range', 'score'],
    ['score above 5', { name: 'w', score: 5.0001 }, 'out_of_range', 'score'],
    ['username not a string', { name: 'w', score: 1, username: 7 }, 'invalid_type', 'username'],
    ['username blank', { name: 'w', score: 1, username: '  ' }, 'empty', 'username'],
    ['username too long', { name: 'w', score: 1, username: 'u'.repeat(65) }, 'too_long', 'username'],
  ])('%s → 400 %s on %s', (_label, body, code, field) => {
    expect(refusal(() => validatePush(body))).toEqual({ status: 400, code, field });
  });

  test('name is checked before score', () => {
    expect(refusal(() => validatePush({}))).toEqual({ status: 400, code: 'missing', field: 'name' });
  });

  test('-0 becomes 0', () => {
    expect(Object.is(validatePush({ name: 'w', score: -0 }).score, 0)).toBe(true);
  });
});

describe('validateReset', () => {
  test('no body, empty object or a username', () => {
    expect(validateReset(undefined)).toEqual({ username: null });
    expect(validateReset({})).toEqual({ username: null });
    expect(validateReset({ username: 'ops' })).toEqual({ username: 'ops' });
  });
  test('refusals', () => {
    expect(refusal(() => validateReset({ username: 1 }))).toEqual({ status: 400, code: 'invalid_type', field: 'username' });
    expect(refusal(() => validateReset([1]))).toEqual({ status: 400, code: 'invalid_body', field: null });
  });
});

describe('validateName (path)', () => {
  test('trims and bounds', () => {
    expect(validateName(' x ')).toBe('x');
    expect(refusal(() => validateName(' '))).toEqual({ status: 400, code: 'empty', field: 'name' });
    expect(refusal(() => validateName('n'.repeat(256)))).toEqual({ status: 400, code: 'too_long', field: 'name' });
  });

  test('every name the score api accepts is a key PostgreSQL can index: NAME_MAX characters fit KEY_MAX_BYTES', () => {
    expect(NAME_MAX * 4).toBeLessThanOrEqual(KEY_MAX_BYTES); // 4 bytes: the longest UTF-8 character
    const widest = '😀'.repeat(NAME_MAX);
    expect(validateName(widest)).toBe(widest);
    const over = 'é'.repeat(KEY_MAX_BYTES / 2) + 'x';
    for (const check of [() => validateName(over), () => validatePush({ name: over, score: 1 })])
      expect(refusal(check)).toEqual({ status: 400, code: 'too_long', field: 'name' });
  });
});

describe('times and windows', () => {
  test.each([
    ['2024-03-01T10:00:00Z', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01T10:00:00.123456Z', '2024-03-01T10:00:00.123Z'],
    ['2024-03-01T10:00Z', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01', '2024-03-01T00:00:00.000Z'],
    ['2024-03-01T10:00:00', '2024-03-01T10:00:00.000Z'], // no offset: UTC
    ['2024-03-01T11:00:00+01:00', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01T11:00:00+0100', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01T11:00:00 01:00', '2024-03-01T10:00:00.000Z'], // '+' decoded as a space
    ['2024-03-01T05:00:00-05:00', '2024-03-01T10:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    // years 0000-0099 are years, not 1900-1999 (Date.UTC's two-digit years)
    ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00.000Z'],
    ['0050-02-28', '0050-02-28T00:00:00.000Z'],
    ['0099-12-31T23:59:59Z', '0099-12-31T23:59:59.000Z'],
    ['0004-02-29', '0004-02-29T00:00:00.000Z'],
    ['0000-02-29', '0000-02-29T00:00:00.000Z'], // year 0 is a leap year (proleptic Gregorian)
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('%s is %s', (text, iso) => {
    expect(parseIsoTime(text, 'from')?.toISOString()).toBe(iso);
  });

  test.each([
    'yesterday',
    '2024-02-30',
    '2023-02-29',
    '2024-13-01',
    '2024-03-01T24:00:00Z',
    '2024-03-01T10:60Z',
    '1709287200000',
    '2024-3-1',
    '0001-02-29',
    '0100-02-29',
    '2024-01-01\u0000',
  ])('%s is refused naming the field', (text) => {
    expect(refusal(() => parseIsoTime(text, 'to'))).toEqual({ status: 400, code: 'invalid_time', field: 'to' });
  });

  test('absent or empty is no bound; repeated is refused', () => {
    expect(validateWindow({})).toEqual({ from: null, to: null });
    expect(validateWindow({ from: '' })).toEqual({ from: null, to: null });
    expect(refusal(() => validateWindow({ from: ['2024-01-01', '2024-01-02'] }))).toEqual({ status: 400, code: 'invalid_type', field: 'from' });
  });

  test('from after to is refused on to; from equal to to is an empty window', () => {
    expect(refusal(() => validateWindow({ from: '2024-03-02', to: '2024-03-01' }))).toEqual({ status: 400, code: 'invalid_range', field: 'to' });
    expect(validateWindow({ from: '2024-03-01', to: '2024-03-01' }).from?.getTime()).toBe(Date.UTC(2024, 2, 1));
  });

  test('history interval: minute (default), hour, day', () => {
    expect(validateHistory({}).interval).toBe('minute');
    expect(validateHistory({ interval: 'hour' }).interval).toBe('hour');
    expect(validateHistory({ interval: 'day', from: '2024-01-01' }).from?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(refusal(() => validateHistory({ interval: 'week' }))).toEqual({ status: 400, code: 'invalid_value', field: 'interval' });
    expect(refusal(() => validateHistory({ interval: ['hour', 'day'] }))).toEqual({ status: 400, code: 'invalid_value', field: 'interval' });
  });

  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])(
    'interval=%s (an inherited property name) is refused',
    (interval) => {
      expect(refusal(() => validateHistory({ interval }))).toEqual({ status: 400, code: 'invalid_value', field: 'interval' });
    },
  );
});

describe('validateSearch (the dashboard name search)', () => {
  test('absent or empty is everything; text is kept as given (not trimmed: it is a substring)', () => {
    expect(validateSearch(undefined)).toBe('');
    expect(validateSearch('')).toBe('');
    expect(validateSearch(' wid ')).toBe(' wid ');
  });

  test.each([
    ['a NUL', 'a\u0000b', 'invalid_value'],
    ['a lone surrogate', 'a\udc00', 'invalid_value'],
    ['given twice', ['a', 'b'], 'invalid_type'],
    ['256 characters', 's'.repeat(256), 'too_long'],
  ])('%s is refused on q', (_label, q, code) => {
    expect(refusal(() => validateSearch(q))).toEqual({ status: 400, code, field: 'q' });
  });
});

describe('validateAdRequest', () => {
  const ok = { sdk_version: '1.4.2', session_id: 's-1', platform: 'ios', username: 'ann', country_code: 'de' };

  test('accepts and normalizes the country code to upper case', () => {
    expect(validateAdRequest(ok)).toEqual({ ...ok, country_code: 'DE' });
    expect(validateAdRequest({ ...ok, sdk_version: '7' }).sdk_version).toBe('7');
    expect(validateAdRequest({ ...ok, username: 'u'.repeat(64) }).username).toHaveLength(64);
  });

  test.each([
    ['sdk_version', undefined, 'missing'],
    ['sdk_version', '1.x', 'invalid_format'],
    ['sdk_version', '1..2', 'invalid_format'],
    ['sdk_version', '.1', 'invalid_format'],
    ['sdk_version', 'v1.2', 'invalid_format'],
    ['sdk_version', '1.' + '2'.repeat(63), 'too_long'],
    ['session_id', undefined, 'missing'],
    ['session_id', '', 'empty'],
    ['session_id', 's'.repeat(65), 'too_long'],
    ['platform', undefined, 'missing'],
    ['platform', '   ', 'empty'],
    ['platform', ['ios', 'android'], 'invalid_type'],
    ['username', undefined, 'missing'],
    ['username', 'u'.repeat(65), 'too_long'],
    ['country_code', undefined, 'missing'],
    ['country_code', 'DEU', 'invalid_format'],
    ['country_code', 'D1', 'invalid_format'],
    ['country_code', 'D', 'invalid_format'],
  ])('%s = %j → 400 %s', (field, value, code) => {
    const q: Record<string, unknown> = { ...ok, [field]: value };
    if (value === undefined) delete q[field];
    expect(refusal(() => validateAdRequest(q))).toEqual({ status: 400, code, field });
  });
});

describe('validateStatistics', () => {
  test('exactly one filter; sdk is an alias of sdk_version', () => {
    expect(validateStatistics({ username: 'ann' })).toEqual({ filter: 'username', value: 'ann' });
    expect(validateStatistics({ sdk_version: '1.2' })).toEqual({ filter: 'sdk_version', value: '1.2' });
    expect(validateStatistics({ sdk: '1.2' })).toEqual({ filter: 'sdk_version', value: '1.2' });
  });

  test.each([
    [{}, 'missing', 'username'],
    [{ username: 'a', sdk: '1' }, 'ambiguous', 'sdk'],
    [{ sdk_version: '1', sdk: '1' }, 'ambiguous', 'sdk'],
    [{ username: 'a', sdk_version: '1' }, 'ambiguous', 'sdk_version'],
    [{ username: '' }, 'empty', 'username'],
    [{ sdk_version: 'abc' }, 'invalid_format', 'sdk_version'],
    [{ sdk: 'abc' }, 'invalid_format', 'sdk'],
  ])('%j → 400 %s on %s', (query, code, field) => {
    expect(refusal(() => validateStatistics(query))).toEqual({ status: 400, code, field });
  });
});

describe('validateQueryEncoding', () => {
  test('well-formed percent-encoded UTF-8 (and + for a space) passes', () => {
    for (const url of ['/x', '/x?', '/x?a=1&b=%C3%A9&c=a+b&d&&e=', '/x?q=%F0%9F%8E%89', '/x?%C3%A9=1']) expect(() => validateQueryEncoding(url)).not.toThrow();
  });

  test.each([
    ['/x?username=%FF', 'username'],
    ['/x?a=1&q=%E0%A4%A', 'q'],
    ['/x?q=%C0%AF', 'q'], // overlong
    ['/x?q=%ED%A0%80', 'q'], // an encoded surrogate
    ['/x?q=%', 'q'],
    ['/x?%FF=1', null],
  ])('%s is refused naming the parameter', (url, field) => {
    expect(refusal(() => validateQueryEncoding(url))).toEqual({ status: 400, code: 'invalid_encoding', field });
  });
});
