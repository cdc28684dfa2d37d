import Encoder from 'kafkajs/src/protocol/encoder';
import requestFrame from 'kafkajs/src/protocol/request';
import { prng } from '../random';

/**
 * The installed kafkajs's request frame (patches/kafkajs+2.2.4.patch: protocol/request.js) must
 * write the bytes kafkajs 2.2.4's framing wrote, which is rebuilt here as its source had it.
 */
function kafkajsFrame(args: { correlationId: number; clientId: string; apiKey: number; apiVersion: number; payload: Encoder }): Buffer {
  const requestPayload = new Encoder()
    .writeInt16(args.apiKey)
    .writeInt16(args.apiVersion)
    .writeInt32(args.correlationId)
    .writeString(args.clientId)
    .writeEncoder(args.payload);
  return new Encoder().writeInt32(requestPayload.size()).writeEncoder(requestPayload).buffer;
}

function payloadOf(bytes: Buffer): Encoder {
  return new Encoder().writeBuffer(bytes);
}

const rnd = prng(7);
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));

test.each([
  ['an empty payload', 0, 'dasy-ingest'],
  ['one byte', 1, 'x'],
  ['511 bytes (an Encoder fresh size)', 511, 'dasy-api'],
  ['512 bytes', 512, 'dasy-product-count-producer'],
  ['100,001 bytes', 100_001, 'dasy-\u00e9\u4e2d'],
  ['a megabyte', 1 << 20, 'dasy-ingest'],
])('%s: the same bytes as kafkajs 2.2.4, in a buffer of exactly that size', async (_what, size, clientId) => {
  const bytes = randomBytes(size);
  const args = { correlationId: 1234567, clientId, apiKey: 0, apiVersion: 3 };
  const frame = await requestFrame({ ...args, request: { ...args, encode: async () => payloadOf(bytes) } });
  const expected = kafkajsFrame({ ...args, payload: payloadOf(bytes) });
  expect(frame.buffer.equals(expected)).toBe(true);
  expect([frame.buf.length, frame.offset]).toEqual([expected.length, expected.length]);
});

test('a request whose encode gives no Encoder fails as kafkajs did', async () => {
  const request = { apiKey: 0, apiVersion: 3, encode: async () => ({ bytes: 1 }) as unknown as Encoder };
  await expect(requestFrame({ correlationId: 1, clientId: 'x', request })).rejects.toThrow(new Error('value should be an instance of Encoder'));
});
