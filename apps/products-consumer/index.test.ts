import { KafkaMessage } from 'kafkajs';
import { PoisonMessageError } from '../../libs/errors';
import { choosesOnlyChanged, decodeProduct } from '.';
import { encodeProductValue } from '../products-producer/value';

const message = (key: string | null, value: string | Buffer | null): KafkaMessage => ({
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value),
  offset: '0',
  timestamp: '0',
  attributes: 0,
  headers: {},
});

describe('decodeProduct', () => {
  test('a null value is a tombstone for the key', () => {
    expect(decodeProduct(message('sku-1', null))).toEqual({ sku: 'sku-1', deleted: true });
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

  test('a record in the compact value: the name decoded, the description as its bytes', () => {
    const decoded = decodeProduct(message('sku-1', encodeProductValue('Ann', ' d ☃ ')));
    expect(decoded).toEqual({ sku: 'sku-1', name: 'Ann', description: Buffer.from(' d ☃ ') });
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
