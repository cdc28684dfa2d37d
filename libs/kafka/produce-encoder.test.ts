import kafkajsCrc from 'kafkajs/src/protocol/recordBatch/crc32C/crc32C';
import { crc32c, encodeProduceRequest, isPlain } from 'kafkajs/src/protocol/requests/produce/v3/plainEncoder';
import produceRequest from 'kafkajs/src/protocol/requests/produce/v3/request';
import Long from 'kafkajs/src/utils/long';
import { prng } from '../random';

/**
 * The installed kafkajs's Produce request (patches/kafkajs+2.2.4.patch): plain requests go to the
 * patch's encoder, every other to kafkajs's own (`kafkajsRequest`); both must write kafkajs's bytes.
 */
type Args = Parameters<typeof produceRequest>[0];

const ALPHABET = 'abcdefghij KLMNOP,"\n\u00e9\u4e2d\u{1f600}';
function text(rnd: () => number, max: number): string {
  const chars = [...ALPHABET];
  let s = '';
  const n = Math.floor(rnd() * max);
  for (let i = 0; i < n; i++) s += chars[Math.floor(rnd() * chars.length)];
  return s;
}

async function kafkajsBytes(args: Args): Promise<Buffer> {
  return (await produceRequest.kafkajsRequest!(args).encode()).buffer;
}

async function patchedBytes(args: Args): Promise<Buffer> {
  return (await produceRequest(args).encode()).buffer;
}

function randomTopicData(seed: number): Args['topicData'] {
  const rnd = prng(seed);
  return Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, t) => ({
    topic: `topic-${t}-${text(rnd, 5)}`,
    partitions: Array.from({ length: 1 + Math.floor(rnd() * 4) }, (_, p) => ({
      partition: p * 3 + t,
      firstSequence: Math.floor(rnd() * 100000),
      messages: Array.from({ length: 1 + Math.floor(rnd() * (seed === 5 ? 3000 : 200)) }, () => {
        const r = rnd();
        const key = r < 0.1 ? null : r < 0.2 ? undefined : r < 0.3 ? Buffer.from(text(rnd, 40)) : r < 0.35 ? '' : text(rnd, 60);
        const v = rnd();
        const value = v < 0.05 ? null : v < 0.2 ? Buffer.from(text(rnd, 300)) : text(rnd, seed === 4 ? 3000 : 300);
        return { key, value, partition: p * 3 + t, ...(r > 0.9 ? { headers: {} } : {}) };
      }),
    })),
  }));
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

  test.each([1, 2, 3, 4, 5])('plain requests: the patch encodes them, byte for byte as kafkajs (seed %i)', async (seed) => {
    const topicData = randomTopicData(seed);
    for (const transactionalId of [null, undefined, '', 'tx-\u00e9']) {
      for (const producerId of [undefined, Long.fromInt(-1), Long.fromNumber(123456789012)]) {
        const args = { acks: -1, timeout: 30000, transactionalId, producerId, producerEpoch: seed, compression: 0, topicData };
        expect(isPlain(args)).toBe(true);
        const expected = await kafkajsBytes(args);
        expect(encodeProduceRequest(args).equals(expected)).toBe(true);
        expect((await patchedBytes(args)).equals(expected)).toBe(true);
      }
    }
  });

  test('the request keeps its kafkajs fields (api key and version, response expected unless acks=0)', () => {
    const request = produceRequest({ acks: 0, timeout: 1000, topicData: [] });
    expect([request.apiKey, request.apiVersion, request.apiName, request.expectResponse()]).toEqual([0, 3, 'Produce', false]);
  });

  const others: [string, Partial<Args>, object][] = [
    ['compression', { compression: 1 }, {}],
    ['headers', {}, { headers: { a: '1', b: ['x', Buffer.from('y')] } }],
    ['a timestamp', {}, { timestamp: '1732300000000' }],
    ['a numeric timestamp', {}, { timestamp: 1732299999000 }],
  ];
  test.each(others)('requests with %s go to kafkajs, unchanged', async (_, request, message) => {
    const topicData = randomTopicData(1);
    topicData[0].partitions[0].messages[0] = { ...topicData[0].partitions[0].messages[0], ...message };
    const args = { acks: -1, timeout: 30000, producerId: Long.fromInt(7), topicData, ...request };
    expect(isPlain(args)).toBe(false);
    expect((await patchedBytes(args)).equals(await kafkajsBytes(args))).toBe(true);
  });

  test('keys and values that are neither strings nor Buffers go to kafkajs', () => {
    const message = (m: object) => ({ acks: 1, timeout: 1, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [m] }] }] });
    expect(isPlain(message({ key: 'k', value: 'v' }))).toBe(true);
    expect(isPlain(message({ key: 42, value: 'v' }))).toBe(false);
    expect(isPlain(message({ key: 'k', value: new Uint8Array([1]) }))).toBe(false);
    expect(isPlain(message({ key: 'k', value: 'v', headers: null }))).toBe(false);
  });
});
