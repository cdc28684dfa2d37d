/**
 * patches/kafkajs+2.2.4.patch, recordBatch/v0/plainDecoder.js: the records of an uncompressed
 * batch are read in place; they must be exactly the objects kafkajs's own decoder gives, and a
 * batch the fast decoder does not handle (headers, numbers beyond 2^53) must go to kafkajs's.
 */

import { prng } from '../random';
import { KAFKAJS_PATCH } from './kafkajs-check';

/* eslint-disable @typescript-eslint/no-require-imports */
type Rec = Record<string, unknown>;
type BatchDecoder = (decoder: unknown) => Promise<{ records: Rec[] }>;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (a: object) => Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (a: object) => unknown;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long') as { fromString(s: string): unknown; fromNumber(n: number): unknown };
const patched = require('kafkajs/src/protocol/recordBatch/v0/decoder') as BatchDecoder & { DASY_PATCH?: string };
const { decodePlainRecords } = require('kafkajs/src/protocol/recordBatch/v0/plainDecoder') as {
  decodePlainRecords: (decoder: unknown, context: object) => Rec[] | undefined;
};
/** kafkajs's own batch decoder: the same module with the fast decoder declining every batch */
const kafkajsOwn = (() => {
  let own: BatchDecoder | undefined;
  jest.isolateModules(() => {
    jest.doMock('kafkajs/src/protocol/recordBatch/v0/plainDecoder', () => ({ decodePlainRecords: () => undefined }));
    own = require('kafkajs/src/protocol/recordBatch/v0/decoder') as BatchDecoder;
  });
  return own!;
})();
/* eslint-enable @typescript-eslint/no-require-imports */

function bytes(rnd: () => number): Buffer | null {
  const r = rnd();
  if (r < 0.1) return null;
  if (r < 0.2) return Buffer.alloc(0);
  return Buffer.from(Array.from({ length: Math.floor(rnd() * (r < 0.25 ? 300 : 40)) }, () => Math.floor(rnd() * 256)));
}

interface Shape {
  firstOffset: string;
  firstTimestamp: number;
  records: number;
  headers?: boolean;
  timestampDelta?: number;
}

async function batch(seed: number, shape: Shape): Promise<Buffer> {
  const rnd = prng(seed);
  const records = Array.from({ length: shape.records }, (_, i) =>
    Record({
      offsetDelta: i * (1 + Math.floor(rnd() * 3)),
      timestampDelta: shape.timestampDelta ?? Math.floor(rnd() * 100_000),
      key: bytes(rnd),
      value: bytes(rnd),
      headers: shape.headers && i === shape.records - 1 ? { h: Buffer.from('v') } : {},
    }),
  );
  const { buffer } = await RecordBatch({
    firstOffset: Long.fromString(shape.firstOffset),
    firstTimestamp: shape.firstTimestamp,
    maxTimestamp: shape.firstTimestamp + 100_000,
    lastOffsetDelta: Math.max(0, shape.records * 3),
    records,
  });
  return buffer;
}

/** A decoder at the records' count, after the batch's 57-byte header. */
function atRecords(buffer: Buffer) {
  const decoder = new Decoder(buffer) as { offset: number };
  decoder.offset = 57;
  return decoder;
}

const decodeBoth = async (buffer: Buffer) => [await patched(new Decoder(buffer)), await kafkajsOwn(new Decoder(buffer))];

test('the patched batch decoder is the one installed', () => {
  expect(patched.DASY_PATCH).toBe(KAFKAJS_PATCH);
});

test.each(Array.from({ length: 40 }, (_, seed) => seed))('random uncompressed batch %i: the same records as kafkajs', async (seed) => {
  const rnd = prng(1000 + seed);
  const records = seed === 0 ? 0 : 1 + Math.floor(rnd() * 500);
  const buffer = await batch(seed, {
    firstOffset: String(Math.floor(rnd() * 2 ** 40)),
    firstTimestamp: 1_700_000_000_000 + Math.floor(rnd() * 1e9),
    records,
  });
  const [mine, theirs] = await decodeBoth(buffer);
  expect(mine).toEqual(theirs);
  expect(mine.records.length).toBe(records);
  // and it was the fast decoder that read them
  expect(decodePlainRecords(atRecords(buffer), mine.records[0]?.batchContext ?? { firstOffset: '0', firstTimestamp: '0' })?.length).toBe(records);
});

test('records read in place: key and value are views of the fetched bytes, offsets and timestamps exact strings', async () => {
  const buffer = await batch(7, { firstOffset: '9007199254740000', firstTimestamp: 1_796_000_000_000, records: 3, timestampDelta: 5 });
  const [mine, theirs] = await decodeBoth(buffer);
  expect(mine.records.map((r) => [r.offset, r.timestamp])).toEqual([
    ['9007199254740000', '1796000000005'],
    [theirs.records[1].offset, '1796000000005'],
    [theirs.records[2].offset, '1796000000005'],
  ]);
  expect(mine).toEqual(theirs);
});

test('a batch the fast decoder does not handle is left to kafkajs, untouched', async () => {
  const declined: [string, Shape][] = [
    ['a record with headers', { firstOffset: '100', firstTimestamp: 1_796_000_000_000, records: 4, headers: true }],
    ['an offset beyond 2^53', { firstOffset: '9007199254740993', firstTimestamp: 1_796_000_000_000, records: 2 }],
  ];
  for (const [what, shape] of declined) {
    const buffer = await batch(3, shape);
    const decoder = atRecords(buffer);
    const context = { firstOffset: shape.firstOffset, firstTimestamp: String(shape.firstTimestamp), magicByte: 2 };
    expect([what, decodePlainRecords(decoder, context), decoder.offset]).toEqual([what, undefined, 57]);
    const [mine, theirs] = await decodeBoth(buffer);
    expect(mine).toEqual(theirs);
    expect(mine.records.length).toBe(shape.records);
  }
});
