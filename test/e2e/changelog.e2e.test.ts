import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import { Admin, ConfigResourceTypes, Kafka } from '../../libs/kafka/port';
import { partitionFor } from '../../libs/kafka/murmur2';
import { deadLetterTopic, topicName, TOPICS } from '../../libs/kafka/topics';
import { CatalogueModel, expectedTables, tables } from './catalogue-model';
import { caughtUp, csv, kafkaOf, messagesIn, pipelineParts, readMessages } from './faults-kit';
import { createTestEnv, runCli, TestEnv, writeTmp } from './harness';

/**
 * `<ns>.products` as a changelog (DESIGN.md §5): tombstones delete, `dasy delete` and
 * `products-producer --delete` send them, `ingest --sync` deletes what the file does not name, the
 * topic is compacted. Every expectation is computed from the files (CatalogueModel), not by dasy.
 */

let t: TestEnv;
let kafka: Kafka;
let admin: Admin;
const model = new CatalogueModel();
beforeAll(async () => {
  t = await createTestEnv('changelog');
  kafka = kafkaOf(t);
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await admin?.disconnect();
  await t?.cleanup();
});

/** Run a command whose last stdout line is a JSON summary; the summary and the rejects reported. */
async function summaryOf(args: string[]) {
  const rejects = path.join(t.tmp, `rejects-${Date.now()}.csv`);
  const r = await runCli(t, [...args, '--consumers', '2', '--rejects', rejects]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { summary: { ...summary, seconds: typeof summary.seconds }, rejects: parse(fs.readFileSync(rejects), { columns: true }) };
}

test('tombstones: the later message of a sku wins within a batch; an unknown sku is a no-op; a key that is no sku is dead-lettered', async () => {
  const base = writeTmp(
    t,
    'base.csv',
    csv([
      ['Ann Lee', 's1', 'one'],
      ['Bo Li', 's2', 'two'],
      ['Bo Li', 's3', 'three'],
      ['Eve Ma', 's4', 'four'],
    ]),
  );
  await summaryOf(['ingest', '--file', base]);
  model.ingest(base);
  expect(await tables(t.pool)).toEqual(expectedTables(model));

  // Sent while no consumer runs: each partition's messages then arrive as one batch.
  const topic = topicName(t.namespace, 'products');
  const record = (sku: string, name: string, description: string) => ({ key: sku, value: JSON.stringify({ sku, name, description, line: 0, record: 0 }) });
  const tombstone = (sku: string) => ({ key: sku, value: null });
  const messages = [
    tombstone('s1'),
    record('s1', 'Cy Oh', 'back'),
    record('s2', 'Di Po', 'moved'),
    tombstone('s2'),
    tombstone('s3'),
    tombstone('nobody'),
    tombstone(''),
  ];
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ ...m, partition: partitionFor(m.key, TOPICS.products.partitions) })) });
  await producer.disconnect();
  const parts = pipelineParts(t, 1);
  for (const p of [...parts.products, parts.relay, parts.counter]) p.start();
  await caughtUp(t, admin);
  for (const p of [...parts.products, parts.relay, parts.counter]) await p.stop();

  // s1 deleted then recreated (its count moves from Ann Lee to Cy Oh); s2 renamed then deleted, s3 deleted: Bo Li is gone
  model.products.set('s1', { name: 'Cy Oh', description: 'back' });
  model.products.delete('s2');
  model.products.delete('s3');
  expect(await tables(t.pool)).toEqual({
    products: [
      { sku: 's1', name: 'Cy Oh', description: 'back' },
      { sku: 's4', name: 'Eve Ma', description: 'four' },
    ],
    counts: [
      { name: 'Cy Oh', no_of_products: 1 },
      { name: 'Eve Ma', no_of_products: 1 },
    ],
  });
  expect(await tables(t.pool)).toEqual(expectedTables(model));
  const dlq = deadLetterTopic(topic);
  expect(await messagesIn(admin, dlq)).toBe(1);
  const [dead] = await readMessages(kafka, dlq, 1);
  expect(dead).toMatchObject({ key: '', value: null, headers: { 'dasy-reason': 'message key (the sku) is missing, empty or not trimmed' } });
});

test('make delete: one tombstone per sku of the file; the rejects reported as an ingest reports them; summary and tables as computed from the files', async () => {
  const records: [string, string, string][] = [];
  for (let i = 0; i < 60; i++) records.push([`Name ${i % 7}`, `d-${i}`, `description ${i}`]);
  const catalogue = writeTmp(t, 'catalogue.csv', csv(records));
  await summaryOf(['ingest', '--file', catalogue]);
  model.ingest(catalogue);

  const skus = writeTmp(
    t,
    'skus.csv',
    [
      'SKU,why', //              1: any case, other columns ignored
      'd-1,gone', //             2
      ' d-2 ,padded', //         3: trimmed
      'd-1,repeated', //         4
      'd-404,unknown', //        5: a no-op tombstone
      '   ,empty', //            6: rejected
      'd-3', //                  7: rejected, one field
      'd-4,nul\u0000here', //    8: rejected
      '', //                     9: blank
      '"d-5","quoted, ok"', //   10
      's4,from the first test', // 11
    ].join('\n') + '\n',
  );
  const { summary, rejects } = await summaryOf(['delete', '--file', skus]);
  const deleted = model.delete(skus);
  expect(deleted).toBe(4);
  expect(summary).toEqual({
    file: skus,
    records: 9,
    accepted: 6,
    rejected: 3,
    deleted: 4,
    products: model.products.size,
    names: model.countRows().length,
    seconds: 'number',
  });
  expect(rejects).toEqual([
    { line: '6', reason: 'sku is empty', raw: '   ,empty' },
    { line: '7', reason: 'wrong number of fields: expected 2, got 1', raw: 'd-3' },
    { line: '8', reason: 'a field holds a NUL character', raw: 'd-4,nul\u0000here' },
  ]);
  expect(await tables(t.pool)).toEqual(expectedTables(model));

  // again: nothing left to delete, nothing changes
  const again = await summaryOf(['delete', '--file', skus]);
  expect([again.summary.accepted, again.summary.deleted, again.summary.products]).toEqual([6, 0, model.products.size]);
  expect(await tables(t.pool)).toEqual(expectedTables(model));
});

test('products-producer --delete only sends the tombstones; the consumers apply them when they run', async () => {
  const skus = writeTmp(t, 'more-skus.csv', 'sku\nd-10\nd-11\nd-12\n');
  const topic = topicName(t.namespace, 'products');
  const before = await messagesIn(admin, topic);
  const tablesBefore = await tables(t.pool);
  const r = await runCli(t, ['products-producer', '--delete', '--file', skus, '--rejects', path.join(t.tmp, 'more.rejects.csv')]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout).toMatch(/^products-producer: 3 records, 3 tombstones sent, 0 rejected \(.*more\.rejects\.csv\) in \d+\.\d s\n$/);
  expect(await messagesIn(admin, topic)).toBe(before + 3);
  expect(await tables(t.pool)).toEqual(tablesBefore);

  const parts = pipelineParts(t, 1);
  for (const p of [...parts.products, parts.relay, parts.counter]) p.start();
  await caughtUp(t, admin);
  for (const p of [...parts.products, parts.relay, parts.counter]) await p.stop();
  expect(model.delete(skus)).toBe(3);
  expect(await tables(t.pool)).toEqual(expectedTables(model));
});

test('ingest --sync: the skus the file does not name are deleted; a rejected record whose sku can be read keeps its product', async () => {
  const present = [...model.products.keys()].sort();
  expect(present.length).toBeGreaterThan(20);
  const [moved, renamed, noName, nulDescription, wrongCount] = present;
  const file = writeTmp(
    t,
    'sync.csv',
    [
      'name,sku,description',
      `Moved Name,${moved},moved`, //                      upserted
      `${model.products.get(renamed)!.name},${renamed},same name new text`,
      `   ,${noName},empty name`, //                        rejected, but names its sku: kept as it was
      `Nul Name,${nulDescription},nul\u0000here`, //       rejected, names its sku: kept
      `Short,${wrongCount}`, //                             rejected, cannot be read: deleted
      'Brand New,sync-new-1,new',
      'Brand New,sync-new-2,new',
    ].join('\n') + '\n',
  );
  const { summary, rejects } = await summaryOf(['ingest', '--sync', '--file', file]);
  const deleted = model.sync(file);
  expect(deleted).toBe(present.length - 4);
  expect(summary).toEqual({
    file,
    records: 7,
    accepted: 4,
    rejected: 3,
    deleted,
    products: 6,
    names: model.countRows().length,
    seconds: 'number',
  });
  expect(rejects.map((r: { line: string }) => r.line)).toEqual(['4', '5', '6']);
  expect(model.products.has(noName) && model.products.has(nulDescription) && !model.products.has(wrongCount)).toBe(true);
  expect(await tables(t.pool)).toEqual(expectedTables(model));

  // the same file again: the catalogue already is the file
  const again = await summaryOf(['ingest', '--sync', '--file', file]);
  expect([again.summary.deleted, again.summary.products]).toEqual([0, 6]);
  expect(await tables(t.pool)).toEqual(expectedTables(model));

  // without --sync nothing is deleted, and the summary has no "deleted"
  const plain = await summaryOf(['ingest', '--file', writeTmp(t, 'one.csv', csv([['Solo', 'solo-1', 'x']]))]);
  expect(plain.summary).toEqual({
    file: path.join(t.tmp, 'one.csv'),
    records: 1,
    accepted: 1,
    rejected: 0,
    products: 7,
    names: expect.any(Number),
    seconds: 'number',
  });
});

test('delete refuses a file without a sku column, and a missing file, with one clear line', async () => {
  const noSku = writeTmp(t, 'nosku.csv', 'name,description\nx,y\n');
  let r = await runCli(t, ['delete', '--file', noSku]);
  expect([r.code, r.stderr.trim()]).toEqual([2, 'dasy: the header (line 1) must name the column sku (found: "name","description")']);
  r = await runCli(t, ['delete', '--file', path.join(t.tmp, 'nope.csv')]);
  expect([r.code, r.stderr.trim()]).toEqual([2, `dasy: cannot read ${path.join(t.tmp, 'nope.csv')}: no such file`]);
  r = await runCli(t, ['products-producer', '--delete', '--file', noSku]);
  expect([r.code, r.stderr.trim()]).toEqual([2, 'dasy: the header (line 1) must name the column sku (found: "name","description")']);
});

test('the products topic is compacted; a topic created before that is switched to it once, keeping its own settings', async () => {
  const compactionOf = async (topic: string) => {
    const d = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'retention.ms', 'max.message.bytes'] }],
    });
    return Object.fromEntries(d.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
  };
  expect((await compactionOf(topicName(t.namespace, 'products')))['cleanup.policy']).toBe('compact');
  expect((await compactionOf(deadLetterTopic(topicName(t.namespace, 'products'))))['cleanup.policy']).toBe('delete');

  const old = `${t.namespace}-old`;
  const oldTopic = `${old}.products`;
  try {
    await admin.createTopics({
      topics: [{ topic: oldTopic, numPartitions: 6, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '12345678' }] }],
    });
    expect(await compactionOf(oldTopic)).toMatchObject({ 'cleanup.policy': 'delete', 'retention.ms': '12345678' });
    for (let i = 0; i < 2; i++) {
      const r = await runCli(t, ['prepare', '--topics-only'], { DASY_NAMESPACE: old });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(await compactionOf(oldTopic)).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '12345678', 'max.message.bytes': '1048588' });
    }
  } finally {
    const doomed = (await admin.listTopics()).filter((name) => name.startsWith(`${old}.`));
    await admin.deleteTopics({ topics: doomed }).catch(() => undefined);
  }
});
