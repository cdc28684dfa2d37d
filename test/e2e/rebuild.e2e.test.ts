import * as fs from 'fs';
import * as path from 'path';
import { Admin, Kafka } from '../../libs/kafka/port';
import { endOffsets, setTopicConfigs, topicLevelConfigs, topicName } from '../../libs/kafka/topics';
import { CatalogueModel, expectedTables, tables } from './catalogue-model';
import { csv, kafkaOf, pipelineParts } from './faults-kit';
import { createTestEnv, rows, runCli, TestEnv, waitFor } from './harness';

/**
 * `make rebuild` (DESIGN.md §5): `<ns>.products` is the changelog of `products`; replayed from the
 * beginning into emptied tables it gives the same tables, row by row, whether the log cleaner has
 * compacted it (superseded records and, after delete.retention.ms, tombstones removed) or not.
 */

let t: TestEnv;
let kafka: Kafka;
let admin: Admin;
beforeEach(async () => {
  t = await createTestEnv('rebuild');
  kafka = kafkaOf(t);
  admin = kafka.admin();
  await admin.connect();
});
afterEach(async () => {
  await admin?.disconnect();
  await t?.cleanup();
});

/** A file of `count` records over `skus` skus and `names` names, deterministic per seed: skus repeat, later records win. */
function generated(name: string, seed: number, count: number, skus: number, names: number): string {
  let state = seed;
  const rnd = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const records: [string, string, string][] = [];
  for (let i = 0; i < count; i++) records.push([`Name ${rnd(names)}`, `sku-${rnd(skus)}`, `seed ${seed} record ${i}, "quoted"\nsecond line`]);
  const file = path.join(t.tmp, name);
  fs.writeFileSync(file, csv(records));
  return file;
}

function skusFile(name: string, skus: string[]): string {
  const file = path.join(t.tmp, name);
  fs.writeFileSync(file, ['sku', ...skus].join('\n') + '\n');
  return file;
}

async function run(args: string[]) {
  const r = await runCli(t, [...args, '--consumers', '2']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** ingests, name moves and updates, deletes by file and by sync: the model follows along. */
async function history(model: CatalogueModel, size: number) {
  const first = generated('first.csv', 1, size, size / 2, size / 20);
  await run(['ingest', '--file', first]);
  model.ingest(first);
  const second = generated('second.csv', 2, size / 2, size / 2, size / 20); // updates, moves, new skus
  await run(['ingest', '--file', second]);
  model.ingest(second);
  const gone = skusFile(
    'gone.csv',
    [...model.products.keys()].filter((_, i) => i % 5 === 0),
  );
  await run(['delete', '--file', gone]);
  model.delete(gone);
  const third = generated('third.csv', 3, size / 4, size / 2, size / 20);
  await run(['ingest', '--sync', '--file', third]);
  model.sync(third);
  expect(await tables(t.pool)).toEqual(expectedTables(model));
}

/** Every record of the topic from the beginning: how many there are, and how many are tombstones. */
async function readAll(topic: string): Promise<{ records: number; tombstones: number }> {
  const end = await endOffsets(admin, topic);
  const last = new Map<number, bigint>();
  let records = 0;
  let tombstones = 0;
  const consumer = kafka.consumer({ groupId: `${t.namespace}.reader-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const done = () => [...end].every(([p, high]) => high === 0n || (last.get(p) ?? -1n) >= high - 1n);
      consumer
        .run({
          eachBatch: ({ batch }) => {
            for (const m of batch.messages) {
              if (m.offset >= end.get(batch.partition)!) continue;
              records++;
              if (m.value === null) tombstones++;
              last.set(batch.partition, m.offset);
            }
            if (done()) resolve();
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return { records, tombstones };
}

const offsetsOf = async (topic: string) => [...(await endOffsets(admin, topic)).values()].reduce((a, b) => a + Number(b), 0);

async function rebuildMatches(before: Awaited<ReturnType<typeof tables>>) {
  const topic = topicName(t.namespace, 'products');
  const summary = await run(['rebuild']);
  expect({ ...summary, seconds: typeof summary.seconds }).toEqual({
    topic,
    offsets: await offsetsOf(topic),
    products: before.products.length,
    names: before.counts.length,
    seconds: 'number',
  });
  expect(await tables(t.pool)).toEqual(before);
  // and nothing is left waiting: the outbox is empty, the group at the end of the topic
  expect(await rows(t.pool, 'SELECT count(*)::int AS n FROM product_count_outbox WHERE namespace = $1', [t.namespace])).toEqual([{ n: 0 }]);
  const stored = await rows<{ partition: number; next_offset: string }>(
    t.pool,
    'SELECT partition, next_offset FROM dasy_consumer_offsets WHERE group_id = $1 AND topic = $2 ORDER BY partition',
    [`${t.namespace}.products-consumer`, topic],
  );
  expect(stored.map((r) => [r.partition, BigInt(r.next_offset)])).toEqual([...(await endOffsets(admin, topic))].sort((a, b) => a[0] - b[0]));
}

test('after ingests, name moves, updates, deletes by file and by sync, a rebuild gives the same tables, row by row', async () => {
  const model = new CatalogueModel();
  await history(model, 4000);
  const before = await tables(t.pool);
  expect(before.products.length).toBeGreaterThan(500);
  await rebuildMatches(before);
  // again, with a products consumer of the namespace already running elsewhere (idle at the end
  // of the topic): it takes part in the replay, and the tables come out the same
  const [elsewhere] = pipelineParts(t, 1).products;
  elsewhere.start();
  try {
    await waitFor('the consumer running elsewhere joined its group', async () => /running in group/.test(elsewhere.current.stdout()), 30000);
    await rebuildMatches(before);
  } finally {
    await elsewhere.stop();
  }
});

test('after the log cleaner compacted the topic (superseded records and tombstones removed), a rebuild is still exact', async () => {
  const topic = topicName(t.namespace, 'products');
  // This namespace's topic only: small segments rolled often, cleaned as soon as a little is dirty,
  // tombstones kept for no time once cleaned.
  const settings = await topicLevelConfigs(admin, topic);
  for (const [k, v] of Object.entries({
    'segment.ms': '100',
    'min.cleanable.dirty.ratio': '0.01',
    'min.compaction.lag.ms': '0',
    'delete.retention.ms': '0',
  }))
    settings.set(k, v);
  await setTopicConfigs(admin, topic, settings);

  const model = new CatalogueModel();
  await history(model, 6000);
  const sentTombstones = (await readAll(topic)).tombstones;
  expect(sentTombstones).toBeGreaterThan(0);
  // The cleaner (every 15 s when idle) removes superseded records; a later pass removes tombstones
  // whose delete horizon passed. More updates keep the log dirty enough for it to come back.
  let round = 0;
  const compacted = await waitFor(
    'the log cleaner to remove superseded records and tombstones',
    async () => {
      const read = await readAll(topic);
      if (read.records < (await offsetsOf(topic)) && read.tombstones < sentTombstones) return read;
      const more = generated(`more-${round}.csv`, 100 + round++, 600, 3000, 300);
      await run(['ingest', '--file', more]);
      model.ingest(more);
      await new Promise((r) => setTimeout(r, 5000));
      return undefined;
    },
    240000,
    0,
  );
  expect(compacted.records).toBeLessThan(await offsetsOf(topic));
  expect(compacted.tombstones).toBeLessThan(sentTombstones);
  const before = await tables(t.pool);
  expect(before).toEqual(expectedTables(model));
  await rebuildMatches(before);
}, 360000);

test('batches compaction emptied, wholly or at their end, where a cleaned segment ends, do not stall a rebuild', async () => {
  const topic = topicName(t.namespace, 'products');
  const settings = await topicLevelConfigs(admin, topic);
  for (const [k, v] of Object.entries({
    'segment.bytes': '4000',
    'segment.ms': '100',
    'min.cleanable.dirty.ratio': '0.01',
    'min.compaction.lag.ms': '0',
    'delete.retention.ms': '0',
  }))
    settings.set(k, v);
  await setTopicConfigs(admin, topic, settings);
  const model = new Map<string, { name: string; description: string }>();
  // each send by a producer of its own: its one batch is also its last, which compaction keeps even emptied
  const send = async (records: [sku: string, name: string, description: string][]) => {
    for (const [sku, name, description] of records) model.set(sku, { name, description });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: records.map(([sku, name, description]) => ({ key: sku, value: JSON.stringify({ sku, name, description, line: 0, record: 0 }), partition: 0 })),
    });
    await producer.disconnect();
    await new Promise((r) => setTimeout(r, 150)); // each send in its own segment
  };
  const batch = (round: number, from: number, count: number, what: string) =>
    Array.from({ length: count }, (_, i) => [`r${round}-${from + i}`, `Name ${(from + i) % 3}`, `${what} ${round}`] as [string, string, string]);
  // A batch, then one too large to share a cleaned segment with it, then one replacing half of
  // the first batch (its end) or all of it: once cleaned, the first ends a segment with offsets
  // that hold no record.
  for (let round = 0; round < 4; round++) {
    await send(batch(round, 0, 10, 'first'));
    await send([[`big-${round}`, 'Big', 'x'.repeat(3000)]]);
    await send(round % 2 ? batch(round, 0, 10, 'all replaced') : batch(round, 5, 5, 'end replaced'));
  }
  let tail = 0;
  await waitFor(
    'the log cleaner to leave batches without records at the end of cleaned segments',
    async () => {
      await send([[`tail-${tail++}`, 'Tail', 'keeps the log dirty']]);
      return (await fetchesEndingWithoutRecord(topic)) > 0;
    },
    120000,
    500,
  );
  const summary = await run(['rebuild']);
  expect([summary.products, summary.names]).toEqual([model.size, new Set([...model.values()].map((p) => p.name)).size]);
  const expected = new CatalogueModel();
  for (const [sku, p] of model) expected.products.set(sku, p);
  expect(await tables(t.pool)).toEqual(expectedTables(expected));
}, 240000);

/** Reading partition 0 from the beginning: how many fetches ended on offsets without a record. */
async function fetchesEndingWithoutRecord(topic: string): Promise<number> {
  const end = (await endOffsets(admin, topic)).get(0)!;
  let count = 0;
  const consumer = kafka.consumer({ groupId: `${t.namespace}.ends-${Date.now()}`, maxWaitTimeInMs: 100 });
  // a fetch with no record at all does not reach eachBatch: the client reports it and moves on
  consumer.on('fetch:empty', (fetch) => {
    if (fetch.partition === 0) count++;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachBatch: ({ batch }) => {
            if (batch.partition !== 0) return Promise.resolve();
            if (batch.lastOffset !== batch.messages[batch.messages.length - 1].offset) count++;
            if (batch.lastOffset >= end - 1n) resolve();
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return count;
}
