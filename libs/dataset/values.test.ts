import { KEY_MAX_BYTES } from '../db/key-limit';
import type { ColumnSpec, ColumnType } from './spec';
import { keyBytesTooLong, parseField, trimmedColumns } from './values';

const col = (type: ColumnType, optional = false): ColumnSpec => ({ name: 'c', type, optional });
const ok = (value: string | null) => ({ ok: true, value });
const no = (reason: string) => ({ ok: false, reason });
const parse = (type: ColumnType, raw: string, optional = false, trimmedKey = false) => parseField(col(type, optional), raw, trimmedKey);

describe('empty fields', () => {
  test.each(['integer', 'numeric', 'boolean', 'date', 'timestamp'] as const)('%s: optional empty (after trim) is null, required is refused', (type) => {
    expect(parse(type, '', true)).toEqual(ok(null));
    expect(parse(type, '  \t', true)).toEqual(ok(null));
    expect(parse(type, '')).toEqual(no('is empty'));
    expect(parse(type, '   ')).toEqual(no('is empty'));
  });

  test('text: optional exactly "" is null; spaces are a value; required "" stays ""', () => {
    expect(parse('text', '', true)).toEqual(ok(null));
    expect(parse('text', '  ', true)).toEqual(ok('  '));
    expect(parse('text', '')).toEqual(ok(''));
  });
});

describe('text', () => {
  test('kept exactly, spaces and line breaks included', () => {
    expect(parse('text', '  a b \r\n c ')).toEqual(ok('  a b \r\n c '));
  });

  test('a key or group_by column is trimmed and non-empty', () => {
    expect(parse('text', '  a b  ', false, true)).toEqual(ok('a b'));
    expect(parse('text', '   ', false, true)).toEqual(no('is empty'));
    expect(parse('text', '', false, true)).toEqual(no('is empty'));
  });

  test('a NUL is refused', () => {
    expect(parse('text', 'a\u0000b')).toEqual(no('holds a NUL character'));
    expect(parse('text', 'a\u0000b', false, true)).toEqual(no('holds a NUL character'));
  });
});

describe('integer', () => {
  test.each([
    ['0', '0'],
    [' 42 ', '42'],
    ['+7', '7'],
    ['-0', '0'],
    ['007', '7'],
    ['-0012', '-12'],
    ['9223372036854775807', '9223372036854775807'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['+0009223372036854775807', '9223372036854775807'],
  ])('%j is %j', (raw, value) => expect(parse('integer', raw)).toEqual(ok(value)));

  test.each(['9223372036854775808', '-9223372036854775809', '99999999999999999999999'])('%j is out of range', (raw) =>
    expect(parse('integer', raw)).toEqual(no('is out of the 64-bit integer range')),
  );

  test.each(['1.0', '1e3', '0x10', '1_000', '1 000', '+', '-', '--1', 'abc', '١٢'])('%j is not an integer', (raw) =>
    expect(parse('integer', raw)).toEqual(no('is not an integer')),
  );
});

describe('numeric', () => {
  test.each([
    ['0', '0'],
    [' 1.50 ', '1.50'],
    ['-.5', '-.5'],
    ['+5.', '+5.'],
    ['12345678901234567890.123456789012345678901234567890', '12345678901234567890.123456789012345678901234567890'],
    ['1e1000', '1e1000'],
    ['1E-1000', '1E-1000'],
    ['2.5e+3', '2.5e+3'],
    ['1' + '0'.repeat(999), '1' + '0'.repeat(999)],
  ])('%j is %j', (raw, value) => expect(parse('numeric', raw)).toEqual(ok(value)));

  test.each(['1e1001', '1e-1001', '1e+0000000000001001', '1' + '0'.repeat(1000)])('%j is out of range', (raw) =>
    expect(parse('numeric', raw)).toEqual(no('is out of range')),
  );

  test.each(['NaN', 'nan', 'Infinity', '-Infinity', 'inf', '.', '+', '1e', 'e5', '1.2.3', '1,5', '0x1F', '1 000', '$5'])('%j is not a number', (raw) =>
    expect(parse('numeric', raw)).toEqual(no('is not a number')),
  );
});

describe('boolean', () => {
  test.each([
    ['true', 'true'],
    [' TRUE ', 'true'],
    ['Yes', 'true'],
    ['1', 'true'],
    ['false', 'false'],
    ['No', 'false'],
    ['0', 'false'],
  ])('%j is %s', (raw, value) => expect(parse('boolean', raw)).toEqual(ok(value)));

  test.each(['t', 'f', 'y', 'n', 'on', 'off', '2', '01', 'truth', 'constructor', '__proto__'])('%j is refused', (raw) =>
    expect(parse('boolean', raw)).toEqual(no('is not a boolean (true/false/1/0/yes/no)')),
  );
});

describe('date', () => {
  test.each([
    ['2024-02-29', '2024-02-29'],
    ['2000-02-29', '2000-02-29'],
    [' 2023-12-31 ', '2023-12-31'],
    ['0001-01-01', '0001-01-01'],
    ['9999-12-31', '9999-12-31'],
  ])('%j is %j', (raw, value) => expect(parse('date', raw)).toEqual(ok(value)));

  test.each([
    '2023-02-29',
    '1900-02-29',
    '2024-04-31',
    '2024-13-01',
    '2024-00-10',
    '2024-01-00',
    '0000-01-01',
    '10000-01-01',
    '2024-1-5',
    '2024/01/05',
    '2024-01-05T00:00',
  ])('%j is refused', (raw) => expect(parse('date', raw)).toEqual(no('is not a date (YYYY-MM-DD)')));
});

describe('timestamp', () => {
  test.each([
    ['2024-01-05', '2024-01-05T00:00:00+00:00'],
    ['2024-01-05T10:20', '2024-01-05T10:20:00+00:00'],
    ['2024-01-05 10:20:30', '2024-01-05T10:20:30+00:00'],
    [' 2024-01-05T10:20:30Z ', '2024-01-05T10:20:30+00:00'],
    ['2024-01-05T10:20:30.5', '2024-01-05T10:20:30.5+00:00'],
    ['2024-01-05T10:20:30.123456+05:30', '2024-01-05T10:20:30.123456+05:30'],
    ['2024-01-05T10:20:30.000000Z', '2024-01-05T10:20:30.000000+00:00'],
    ['2024-01-05T10:20-0800', '2024-01-05T10:20:00-08:00'],
    ['2024-01-05T10:20:30+02', '2024-01-05T10:20:30+02:00'],
    ['2024-01-05T10:20:30-00:00', '2024-01-05T10:20:30+00:00'],
    ['2024-01-05T23:59:59+15:59', '2024-01-05T23:59:59+15:59'],
    ['2024-01-05T00:00:00-15:00', '2024-01-05T00:00:00-15:00'],
    ['2024-02-29T12:00Z', '2024-02-29T12:00:00+00:00'],
  ])('%j is %j', (raw, value) => expect(parse('timestamp', raw)).toEqual(ok(value)));

  test.each([
    '2024-01-05T24:00',
    '2024-01-05T23:60',
    '2024-01-05T23:59:60',
    '2023-02-29T00:00',
    '2024-01-05T10:20:30.1234567',
    '2024-01-05T10:20:30.',
    '2024-01-05T10:20:30+16:00',
    '2024-01-05T10:20:30+05:60',
    '2024-01-05T10:20:30+5',
    '2024-01-05T10:20:30+05:3',
    '2024-01-05T1:20',
    '2024-01-05T10',
    '2024-01-05T10:20.5',
    '2024-01-05Z',
    '2024-01-05t10:20',
    '2024-01-05T10:20z',
    '2024-01-05T10:20 UTC',
    '0000-01-01T00:00',
    '1704450030',
  ])('%j is refused', (raw) => expect(parse('timestamp', raw)).toEqual(no('is not an ISO 8601 timestamp')));

  test('the canonical text parses to itself', () => {
    for (const raw of ['2024-01-05 10:20', '2024-01-05T10:20:30.25-0330', '2024-01-05']) {
      const first = parse('timestamp', raw);
      expect(first.ok).toBe(true);
      const canonical = (first as { value: string }).value;
      expect(parse('timestamp', canonical)).toEqual(ok(canonical));
    }
  });
});

describe('keyBytesTooLong', () => {
  test('one value: at the limit fits, one byte over does not', () => {
    expect(keyBytesTooLong(['a'.repeat(KEY_MAX_BYTES)])).toBe(false);
    expect(keyBytesTooLong(['a'.repeat(KEY_MAX_BYTES + 1)])).toBe(true);
  });

  test('several values count together, in UTF-8 bytes', () => {
    expect(keyBytesTooLong(['a'.repeat(1000), 'b'.repeat(1000)])).toBe(false);
    expect(keyBytesTooLong(['a'.repeat(1000), 'b'.repeat(1001)])).toBe(true);
    expect(keyBytesTooLong(['é'.repeat(500), 'b'.repeat(1000)])).toBe(false); // 1000 + 1000 bytes
    expect(keyBytesTooLong(['é'.repeat(500), 'b'.repeat(1001)])).toBe(true);
    expect(keyBytesTooLong(['€'.repeat(600), 'b'.repeat(200)])).toBe(false); // 1800 + 200
    expect(keyBytesTooLong(['€'.repeat(600), 'b'.repeat(201)])).toBe(true);
  });
});

test('trimmedColumns: key and group_by columns', () => {
  const text = (name: string): ColumnSpec => ({ name, type: 'text', optional: false });
  expect(
    trimmedColumns({
      name: 'd',
      key: ['b'],
      columns: [text('a'), text('b'), text('c'), text('d')],
      aggregates: [{ name: 'g', groupBy: ['d'], measures: [{ name: 'n', fn: 'count' }] }],
    }),
  ).toEqual([false, true, false, true]);
});
