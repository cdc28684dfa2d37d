import decodeMessages from 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages';

/**
 * patches/kafkajs+2.2.4.patch, fetch/v4/decodeMessages.js: a fetch's records end at each record
 * batch's last offset (log compaction removes records, not batch ends), as in the Java consumer.
 */

/* eslint-disable @typescript-eslint/no-require-imports */
// kafkajs's own encoder of record batches, its decoder class and its consumer's Batch
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (a: { firstOffset: unknown; lastOffsetDelta: number; records: unknown[] }) => Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (a: { offsetDelta: number; key: Buffer; value: Buffer | null }) => unknown;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => Parameters<typeof decodeMessages>[0];
const Long = require('kafkajs/src/utils/long') as { fromInt(n: number): unknown };
const Batch = require('kafkajs/src/consumer/batch') as new (
  topic: string,
  fetchedOffset: string,
  data: { partition: number; highWatermark: string; messages: unknown[] },
) => { messages: { offset: string }[]; lastOffset(): string; isEmptyDueToFiltering(): boolean };
/* eslint-enable @typescript-eslint/no-require-imports */

/** A fetch's records section: record batches (base offset, last offset delta, the offset deltas of the records kept). */
async function fetched(batches: [base: number, lastOffsetDelta: number, deltas: number[]][]): Promise<Buffer> {
  const encoded = await Promise.all(
    batches.map(([base, lastOffsetDelta, deltas]) =>
      RecordBatch({
        firstOffset: Long.fromInt(base),
        lastOffsetDelta,
        records: deltas.map((d) => Record({ offsetDelta: d, key: Buffer.from(`k${base + d}`), value: Buffer.from('v') })),
      }),
    ),
  );
  const body = Buffer.concat(encoded.map((e) => e.buffer));
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

const decode = decodeMessages;
type Rec = { offset: string; isControlRecord: boolean };
const offsets = (records: Rec[]) => records.map((r) => `${r.offset}${r.isControlRecord ? '(end)' : ''}`);

test('a batch whose last offset holds a record is decoded as kafkajs decodes it', async () => {
  const records = (await decode(new Decoder(await fetched([[10, 2, [0, 1, 2]]])))) as Rec[];
  expect(offsets(records)).toEqual(['10', '11', '12']);
});

test('compaction removed the last records, or all of them: a control record stands at the batch end', async () => {
  const records = (await decode(
    new Decoder(
      await fetched([
        [0, 9, [0, 1, 4]],
        [10, 4, []],
        [15, 1, [0, 1]],
      ]),
    ),
  )) as Rec[];
  expect(offsets(records)).toEqual(['0', '1', '4', '9(end)', '14(end)', '15', '16']);
});

test("kafkajs's Batch then hands over only the records, and moves to the end of a fetch that holds none", async () => {
  const withData = new Batch('t', '0', {
    partition: 0,
    highWatermark: '100',
    messages: await decode(new Decoder(await fetched([[0, 9, [0, 1, 4]]]))),
  });
  expect([withData.messages.map((m) => m.offset), withData.lastOffset()]).toEqual([['0', '1', '4'], '9']);
  // fetched inside a batch emptied of what follows (the last of a cleaned segment), or an empty one
  for (const [at, data] of [
    ['5', [0, 9, [0, 1, 4]]],
    ['20', [20, 4, []]],
  ] as const) {
    const b = new Batch('t', at, { partition: 0, highWatermark: '100', messages: await decode(new Decoder(await fetched([data as never]))) });
    expect([b.messages.length, b.isEmptyDueToFiltering(), b.lastOffset()]).toEqual([0, true, String(data[0] + data[1])]);
  }
});
