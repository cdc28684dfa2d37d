import { crc32c, encodeProduceRequest } from './produce-encoder';

// kafkajs's own modules (jest loads them as they are: the require.cache patch does not apply here)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsRequest = require('kafkajs/src/protocol/requests/produce/v3/request');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Long = require('kafkajs/src/utils/long');

/** mulberry32, deterministic */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'abcdefghij KLMNOP,"\n\u00e9\u4e2d\u{1f600}';
function text(rnd: () => number, max: number): string {
  const chars = [...ALPHABET];
  let s = '';
  const n = Math.floor(rnd() * max);
  for (let i = 0; i < n; i++) s += chars[Math.floor(rnd() * chars.length)];
  return s;
}

async function kafkajsBytes(args: Record<string, unknown>): Promise<Buffer> {
  const encoder = await kafkajsRequest(args).encode();
  return encoder.buffer;
}

describe('produce request encoder', () => {
  const realNow = Date.now;
  beforeAll(() => {
    Date.now = () => 1732300000123;
  });
  afterAll(() => {
    Date.now = realNow;
  });

  test('CRC-32C is the same as kafkajs', () => {
    const rnd = prng(7);
    for (const n of [0, 1, 7, 8, 9, 63, 64, 1000, 4097]) {
      const buf = Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
      expect(crc32c(buf)).toBe(kafkajsCrc(buf));
      if (n > 4) expect(crc32c(buf, 3, n - 1)).toBe(kafkajsCrc(buf.subarray(3, n - 1)));
    }
  });

  test.each([1, 2, 3, 4, 5])('byte for byte the same as kafkajs (seed %i)', async (seed) => {
    const rnd = prng(seed);
    const topicData = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, t) => ({
      topic: `topic-${t}-${text(rnd, 5)}`,
      partitions: Array.from({ length: 1 + Math.floor(rnd() * 4) }, (_, p) => ({
        partition: p * 3 + t,
        firstSequence: Math.floor(rnd() * 100000),
        messages: Array.from({ length: 1 + Math.floor(rnd() * (seed === 5 ? 3000 : 200)) }, () => {
          const r = rnd();
          const key = r < 0.1 ? null : r < 0.2 ? undefined : r < 0.3 ? Buffer.from(text(rnd, 40)) : r < 0.35 ? '' : text(rnd, 60);
          const v = rnd();
          const value = v < 0.05 ? null : v < 0.2 ? Buffer.from(text(rnd, 300)) : text(rnd, seed === 4 ? 3000 : 300);
          return { key, value, partition: p * 3 + t };
        }),
      })),
    }));
    for (const transactionalId of [null, undefined, 'tx-\u00e9']) {
      for (const producerId of [undefined, Long.fromInt(-1), Long.fromNumber(123456789012)]) {
        const args = { acks: -1, timeout: 30000, transactionalId, producerId, producerEpoch: seed, compression: 0, topicData };
        const mine = encodeProduceRequest(args as never, Long);
        expect(mine.equals(await kafkajsBytes(args))).toBe(true);
      }
    }
  });
});
