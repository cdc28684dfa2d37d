import { KafkaMessage } from '../../libs/kafka/port';
import { PoisonMessageError } from '../../libs/errors';
import { choosesOnlyChanged, decodeProduct } from '.';
import { encodeProductValue } from '../../libs/kafka/product-value';

const message = (key: string | null, value: string | Buffer | null): KafkaMessage => ({
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value),
  offset: 0n,
  timestamp: '0',
  headers: {},
});

describe('decodeProduct', () => {
  test('a null value is a tombstone for the key', () => {
    expect(decodeProduct(message('sku-1', null))).toEqual({ sku: Buffer.from('sku-1'), deleted: true });
  });

  test('a tombstone without a usable key is poison', () => {
    for (const [key, reason] of [
      [null, 'message key (the sku) is missing, empty or not trimmed'],
      ['', 'message key (the sku) is missing, empty or not trimmed'],
      [' sku-1', 'message key (the sku) is missing, empty or not trimmed'],
      ['sku\u00001', 'message key (the sku) holds a NUL character'],
    ] as const) {
      expect(() => decodeProduct(message(key, null))).toThrow(new PoisonMessageError(reason));
    }
  });

  test('an empty value is not a tombstone: it is poison', () => {
    expect(() => decodeProduct(message('sku-1', ''))).toThrow(new PoisonMessageError('value is not JSON'));
  });

  test('a record in the compact value: sku, name and description as their bytes, views of the message', () => {
    const m = message('sku-1', encodeProductValue('Ann ☃', ' d ☃ '));
    const decoded = decodeProduct(m);
    expect(decoded).toEqual({ sku: Buffer.from('sku-1'), name: Buffer.from('Ann ☃'), description: Buffer.from(' d ☃ ') });
    expect([(decoded as { sku: Buffer }).sku === m.key, (decoded as { name: Buffer }).name.buffer === m.value!.buffer]).toEqual([true, true]);
  });

  test('a compact record whose key is not UTF-8 keeps the sku as text decoded, as before', () => {
    const m = { ...message(null, encodeProductValue('Ann', 'd')), key: Buffer.from([0x73, 0xff, 0x31]) };
    expect(decodeProduct(m)).toEqual({ sku: Buffer.from('s\ufffd1'), name: Buffer.from('Ann'), description: Buffer.from('d') });
  });

  test('a compact record: the key and name rules hold on their bytes, whitespace beyond ASCII too', () => {
    for (const [key, name, reason] of [
      ['\u00a0sku-1', 'Ann', 'message key (the sku) is missing, empty or not trimmed'],
      ['sku-1\t', 'Ann', 'message key (the sku) is missing, empty or not trimmed'],
      ['sku\u00001', 'Ann', 'message key (the sku) holds a NUL character'],
      ['sku-1', 'Ann\u3000', 'name is empty or not trimmed'],
      ['sku-1', '\ufeffAnn', 'name is empty or not trimmed'],
    ] as const) {
      expect(() => decodeProduct(message(key, encodeProductValue(name, 'd')))).toThrow(new PoisonMessageError(reason));
    }
  });

  test('a compact value whose name is not trimmed, or whose key is not a sku, is poison', () => {
    expect(() => decodeProduct(message('sku-1', encodeProductValue(' Ann', 'd')))).toThrow(new PoisonMessageError('name is empty or not trimmed'));
    expect(() => decodeProduct(message('sku-1', encodeProductValue('', 'd')))).toThrow(new PoisonMessageError('name is empty or not trimmed'));
    expect(() => decodeProduct(message(' sku-1', encodeProductValue('Ann', 'd')))).toThrow(
      new PoisonMessageError('message key (the sku) is missing, empty or not trimmed'),
    );
  });

  test('a record as a JSON object (by hand, or from older versions) is read too', () => {
    const value = JSON.stringify({ sku: 'sku-1', name: 'Ann', description: ' d ', line: 3, record: 2 });
    expect(decodeProduct(message('sku-1', value))).toEqual({ sku: 'sku-1', name: 'Ann', description: ' d ' });
  });
});

describe('choosesOnlyChanged', () => {
  test("the next batch leaves unchanged rows out when fewer than half of this batch's upserts wrote", () => {
    expect([
      choosesOnlyChanged({ upserts: 11000, written: 11000 }),
      choosesOnlyChanged({ upserts: 11000, written: 5500 }),
      choosesOnlyChanged({ upserts: 11000, written: 5499 }),
      choosesOnlyChanged({ upserts: 11000, written: 0 }),
      choosesOnlyChanged({ upserts: 0, written: 0 }),
    ]).toEqual([false, false, true, true, false]);
  });
});
