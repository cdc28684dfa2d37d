import { KafkaMessage } from 'kafkajs';
import { PoisonMessageError } from '../../libs/errors';
import { decodeProduct, planBatch, ProductChange } from '.';

const message = (key: string | null, value: string | null): KafkaMessage => ({
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  offset: '0',
  timestamp: '0',
  attributes: 0,
  headers: {},
});
const upsert = (sku: string, name: string, description = ''): ProductChange => ({ sku, name, description, line: 0, record: 0 });
const tombstone = (sku: string): ProductChange => ({ sku, deleted: true });

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

  test('a record decodes as before', () => {
    const value = JSON.stringify({ sku: 'sku-1', name: 'Ann', description: ' d ', line: 3, record: 2 });
    expect(decodeProduct(message('sku-1', value))).toEqual({ sku: 'sku-1', name: 'Ann', description: ' d ', line: 3, record: 2 });
  });
});

describe('planBatch: the last message of each sku in the batch wins', () => {
  test('an upsert after a tombstone recreates; a tombstone after an upsert deletes', () => {
    expect(planBatch([tombstone('a'), upsert('a', 'Ann', 'back'), upsert('b', 'Bo'), tombstone('b'), tombstone('c'), tombstone('c')])).toEqual({
      skus: ['a'],
      names: ['Ann'],
      descriptions: ['back'],
      deletes: ['b', 'c'],
    });
  });

  test('repeated upserts keep the last record, wholly', () => {
    expect(planBatch([upsert('a', 'Ann', 'one'), upsert('b', 'Bo', 'x'), upsert('a', 'Cy', 'two')])).toEqual({
      skus: ['a', 'b'],
      names: ['Cy', 'Bo'],
      descriptions: ['two', 'x'],
      deletes: [],
    });
  });

  test('no sku is both upserted and deleted', () => {
    const items: ProductChange[] = [];
    for (let i = 0; i < 200; i++) items.push(i % 3 === 0 ? tombstone(`s${i % 17}`) : upsert(`s${i % 17}`, `n${i}`));
    const plan = planBatch(items);
    expect(plan.skus.filter((s) => plan.deletes.includes(s))).toEqual([]);
    expect(new Set([...plan.skus, ...plan.deletes]).size).toBe(17);
  });
});
