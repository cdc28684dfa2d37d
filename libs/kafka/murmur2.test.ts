import { Partitioners } from 'kafkajs';
import { murmur2, partitionFor } from './murmur2';
// kafkajs's own implementation (Long-based, ported from the Java client) is the oracle.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;

test('the same hash as the Java client port in kafkajs, for keys of every length mod 4', () => {
  const keys = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'above-mouth-woman', 'Zoë Ñúñez', '日本語🙂', 'x'.repeat(1001)];
  for (let i = 0; i < 2000; i++) keys.push(`sku-${i}-${(i * 7919).toString(36)}`);
  for (const k of keys) expect(murmur2(Buffer.from(k))).toBe(kafkajsMurmur2(Buffer.from(k)));
});

test('known Java values', () => {
  // org.apache.kafka.common.utils.Utils.murmur2("21".getBytes()) == -973932308
  expect(murmur2(Buffer.from('21'))).toBe(-973932308);
  expect(partitionFor('21', 6)).toBe((-973932308 & 0x7fffffff) % 6);
});

test('a key as its UTF-8 bytes lands where the string does', () => {
  for (const k of ['21', 'Zoë Ñúñez', '日本語🙂', 'sku-42']) expect(partitionFor(Buffer.from(k), 7)).toBe(partitionFor(k, 7));
  expect(partitionFor(Buffer.from('21'), 6)).toBe((-973932308 & 0x7fffffff) % 6);
});

test("partitionFor agrees with kafkajs's default partitioner (the producers' own, libs/kafka/client.ts)", () => {
  const reference = Partitioners.DefaultPartitioner();
  const metadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [], isr: [], partitionErrorCode: 0 }));
  for (const key of ['Widget', 'bench product 1', 'ü', '']) {
    const expected = reference({ topic: 't', partitionMetadata: metadata, message: { key, value: null } });
    expect(partitionFor(key, 6)).toBe(expected);
  }
});
