import { PoisonMessageError } from '../errors';
import type { DatasetSpec } from './spec';
import { decodeRow, jsonMessageValue, keyValues, messageKey, messageValue } from './wire';
import { ORDERS_SPEC as ORDERS } from './test-specs';

// a composite key, its columns out of the spec's order
const LINES: DatasetSpec = {
  name: 'lines',
  key: ['line_no', 'order_id'],
  columns: [
    { name: 'order_id', type: 'text', optional: false },
    { name: 'line_no', type: 'integer', optional: false },
    { name: 'paid', type: 'boolean', optional: true },
  ],
  aggregates: [],
};

const msg = (key: string | null, value: string | null) => ({ key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value) });

function poison(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(PoisonMessageError);
    return (err as Error).message;
  }
  throw new Error('no PoisonMessageError');
}

describe('messageKey and keyValues', () => {
  test('one key column: its text', () => {
    const values = ['o-1', 'ann', '1.50', '2024-01-05T10:20:00+00:00', null];
    expect(messageKey(ORDERS, values)).toBe('o-1');
    expect(keyValues(ORDERS, Buffer.from('o-1'))).toEqual(['o-1']);
  });

  test('a composite key: a JSON array in the key order, round-trip', () => {
    const values = ['o "1", é', '-12', 'true'];
    const key = messageKey(LINES, values);
    expect(key).toBe('["-12","o \\"1\\", é"]');
    expect(keyValues(LINES, Buffer.from(key))).toEqual(['-12', 'o "1", é']);
  });

  test('a missing, empty or undecodable key is poison', () => {
    expect(poison(() => keyValues(ORDERS, null))).toBe('message key is missing or empty');
    expect(poison(() => keyValues(ORDERS, Buffer.alloc(0)))).toBe('message key is missing or empty');
    expect(poison(() => keyValues(ORDERS, Buffer.from([0x61, 0xff])))).toBe('message key is not valid UTF-8');
  });

  test.each(['"-12"', '["-12"]', '["-12","a","b"]', '[-12,"a"]', '["-12",null]', '{"a":1}', 'not json', '["\\ud800x","a"]'])(
    'composite key %j is poison',
    (key) => expect(poison(() => keyValues(LINES, Buffer.from(key)))).toBe('message key is not a JSON array of 2 strings'),
  );

  test('a key that is not its own canonical text is poison', () => {
    expect(poison(() => keyValues(ORDERS, Buffer.from(' o-1')))).toBe('message key: order_id: is not in canonical form ("o-1")');
    expect(poison(() => keyValues(LINES, Buffer.from('["007","a"]')))).toBe('message key: line_no: is not in canonical form ("7")');
    expect(poison(() => keyValues(LINES, Buffer.from('["x","a"]')))).toBe('message key: line_no: is not an integer');
    expect(poison(() => keyValues(LINES, Buffer.from('["1","  "]')))).toBe('message key: order_id: is empty');
    expect(poison(() => keyValues(ORDERS, Buffer.from('a\u0000b')))).toBe('message key: order_id: holds a NUL character');
  });
});

describe('messageValue and decodeRow', () => {
  /** A compact value's fields as text (they come as views of the value's bytes). */
  const asText = (row: ReturnType<typeof decodeRow>) =>
    'deleted' in row ? row : { ...row, values: row.values.map((v) => (Buffer.isBuffer(v) ? v.toString() : v)) };

  test('a row round-trips as JSON, nulls included', () => {
    const values = ['o-1', 'Ann Lee', '-1.50', '2024-01-05T10:20:00.5-08:00', null];
    const value = jsonMessageValue(ORDERS, values);
    expect(value.toString()).toBe('{"order_id":"o-1","customer":"Ann Lee","amount":"-1.50","placed_at":"2024-01-05T10:20:00.5-08:00","note":null}');
    expect(decodeRow(ORDERS, { key: Buffer.from(messageKey(ORDERS, values)), value })).toEqual({ key: ['o-1'], values });
    const noted = ['o-1', 'Ann Lee', '-1.50', '2024-01-05T10:20:00.5-08:00', ' a "note" \r\n'];
    expect(decodeRow(ORDERS, { key: Buffer.from('o-1'), value: jsonMessageValue(ORDERS, noted) })).toEqual({ key: ['o-1'], values: noted });
  });

  test('a row round-trips in the compact value, nulls and empty text included', () => {
    const values = ['o-1', 'Ann Lee', '-1.50', '2024-01-05T10:20:00.5-08:00', null];
    const value = messageValue(ORDERS, values);
    expect(value.toString('latin1')).toBe('\x01\x01o-1\0\x01Ann Lee\0\x01-1.50\0\x012024-01-05T10:20:00.5-08:00\0\x02');
    expect(asText(decodeRow(ORDERS, { key: Buffer.from('o-1'), value }))).toEqual({ key: ['o-1'], values });
    const noted = ['o-1', 'Ann Lee', '-1.50', '2024-01-05T10:20:00.5-08:00', ''];
    expect(asText(decodeRow(ORDERS, { key: Buffer.from('o-1'), value: messageValue(ORDERS, noted) }))).toEqual({ key: ['o-1'], values: noted });
  });

  test('a compact value: fewer fields (a column added since) are NULL, group text trimmed; a required one missing, an empty group, or another key is poison', () => {
    const short = messageValue(ORDERS, ['o-1', 'Ann Lee', '-1.50', '2024-01-05']);
    expect(asText(decodeRow(ORDERS, { key: Buffer.from('o-1'), value: short }))).toEqual({
      key: ['o-1'],
      values: ['o-1', 'Ann Lee', '-1.50', '2024-01-05', null],
    });
    expect(poison(() => decodeRow(ORDERS, { key: Buffer.from('o-1'), value: messageValue(ORDERS, ['o-1', 'Ann Lee']) }))).toBe(
      'amount: missing, and the column is required',
    );
    expect(asText(decodeRow(ORDERS, { key: Buffer.from('o-1'), value: messageValue(ORDERS, ['o-1', ' Ann\u00a0', '1', 'x', null]) }))).toEqual({
      key: ['o-1'],
      values: ['o-1', 'Ann', '1', 'x', null],
    });
    expect(poison(() => decodeRow(ORDERS, { key: Buffer.from('o-1'), value: messageValue(ORDERS, ['o-1', ' ', '1', 'x', null]) }))).toBe('customer: is empty');
    expect(poison(() => decodeRow(ORDERS, { key: Buffer.from('o-1'), value: messageValue(ORDERS, ['o-2', 'Ann', '1', 'x', null]) }))).toBe(
      "message key is not the row's key",
    );
    expect(poison(() => decodeRow(ORDERS, { key: Buffer.from('o-1'), value: messageValue(ORDERS, ['o-1', 'Ann', null, 'x', null]) }))).toBe(
      'amount: null, and the column is required',
    );
    expect(poison(() => decodeRow(ORDERS, { key: Buffer.from('o-1'), value: Buffer.from([1, 1, 0x6f, 0xff]) }))).toBe('message value is not valid UTF-8');
  });

  test('a composite key row round-trips', () => {
    const values = ['a', '9223372036854775807', 'false'];
    expect(decodeRow(LINES, { key: Buffer.from(messageKey(LINES, values)), value: jsonMessageValue(LINES, values) })).toEqual({
      key: ['9223372036854775807', 'a'],
      values,
    });
    expect(asText(decodeRow(LINES, { key: Buffer.from(messageKey(LINES, values)), value: messageValue(LINES, values) }))).toEqual({
      key: ['9223372036854775807', 'a'],
      values,
    });
  });

  test('a null value is a tombstone', () => {
    expect(decodeRow(ORDERS, msg('o-1', null))).toEqual({ key: ['o-1'], deleted: true });
    expect(decodeRow(LINES, msg('["3","a"]', null))).toEqual({ key: ['3', 'a'], deleted: true });
  });

  test('an optional column missing from the message (added to the spec later) is null; values in spec order; unknown keys ignored', () => {
    expect(decodeRow(LINES, msg('["3","a"]', '{"line_no":"3","other":5,"order_id":"a"}'))).toEqual({ key: ['3', 'a'], values: ['a', '3', null] });
  });

  test('values are returned canonical', () => {
    expect(decodeRow(LINES, msg('["3","a"]', '{"order_id":"a","line_no":"+03","paid":"YES"}'))).toEqual({ key: ['3', 'a'], values: ['a', '3', 'true'] });
  });

  const row = (fields: Record<string, unknown>) =>
    JSON.stringify({ order_id: 'o-1', customer: 'ann', amount: '1', placed_at: '2024-01-05T00:00:00+00:00', ...fields });

  test.each([
    [row({ customer: undefined }), 'customer: missing, and the column is required'],
    [row({ customer: null }), 'customer: null, and the column is required'],
    [row({ amount: 1.5 }), 'amount: a JSON number, not a string or null'],
    [row({ note: true }), 'note: a JSON boolean, not a string or null'],
    [row({ note: ['x'] }), 'note: a JSON array, not a string or null'],
    [row({ note: { a: 1 } }), 'note: a JSON object, not a string or null'],
    [row({ amount: 'NaN' }), 'amount: is not a number'],
    [row({ placed_at: '2024-01-05T24:00' }), 'placed_at: is not an ISO 8601 timestamp'],
    [row({ customer: '  ' }), 'customer: is empty'],
    [row({ note: 'a\u0000b' }), 'note: holds a NUL character'],
    [row({ note: 'a\ud800' }), 'note: holds a lone surrogate (not valid Unicode)'],
    [row({ order_id: 'o-2' }), "message key is not the row's key"],
    ['[1,2]', 'message value is not a JSON object'],
    ['null', 'message value is not a JSON object'],
    ['"o-1"', 'message value is not a JSON object'],
    ['{"order_id":', 'message value is not JSON'],
    ['', 'message value is not JSON'],
  ])('value %j is poison: %s', (value, reason) => expect(poison(() => decodeRow(ORDERS, msg('o-1', value)))).toBe(reason));

  test('a value that is not UTF-8 is poison', () => {
    expect(poison(() => decodeRow(ORDERS, { key: Buffer.from('o-1'), value: Buffer.from([0x7b, 0xc3, 0x7d]) }))).toBe('message value is not valid UTF-8');
  });

  test('a bad key is poison before the value is read', () => {
    expect(poison(() => decodeRow(ORDERS, msg(null, row({}))))).toBe('message key is missing or empty');
  });

  test("the composite key must be the row's", () => {
    expect(poison(() => decodeRow(LINES, msg('["3","a"]', '{"order_id":"a","line_no":"4"}')))).toBe("message key is not the row's key");
  });
});
