import * as path from 'path';
import { Admin, Kafka } from '../../libs/kafka/port';
import { partitionFor } from '../../libs/kafka/murmur2';
import { deadLetterTopic, endOffsets, TOPICS, topicName } from '../../libs/kafka/topics';
import { appliedAll, caughtUp, csv, diffTables, exact, expectedFromFiles, kafkaOf, linesMatching, messagesIn, pipelineParts, readMessages } from './faults-kit';
import { createTestEnv, DEV_CLI, rows, runCli, startCli, TestEnv, waitFor, writeTmp } from './harness';

/**
 * product_count stays exact through what the event flow does to it (DESIGN.md §1, §6): skus
 * moving between names, duplicate and poison messages, and the relay dying between its send and
 * the deletion of its marks. Each test has its own namespace and database.
 */

let t: TestEnv;
let kafka: Kafka;
let admin: Admin;
beforeEach(async () => {
  t = await createTestEnv('faults');
  kafka = kafkaOf(t);
  admin = kafka.admin();
  await admin.connect();
});
afterEach(async () => {
  await admin?.disconnect();
  await t?.cleanup();
});

async function ingest(file: string) {
  const r = await runCli(t, ['ingest', '--file', file, '--consumers', '2', '--rejects', path.join(t.tmp, 'rejects.csv')]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('a sku moving to another name moves its count; a name left with no product disappears', async () => {
  const first = writeTmp(
    t,
    'first.csv',
    csv([
      ['Ann Lee', 's1', 'one'],
      ['Ann Lee', 's2', 'two'],
      ['Bob Ray', 's3', 'three'],
      ['Cid Poe', 's4', 'four'],
    ]),
  );
  await ingest(first);
  expect(await rows(t.pool, 'SELECT name, no_of_products FROM product_count ORDER BY name')).toEqual([
    { name: 'Ann Lee', no_of_products: 2 },
    { name: 'Bob Ray', no_of_products: 1 },
    { name: 'Cid Poe', no_of_products: 1 },
  ]);

  const second = writeTmp(
    t,
    'second.csv',
    csv([
      ['Bob Ray', 's1', 'one, now Bob'], // Ann 2 -> 1, Bob 1 -> 2
      ['Dee Ko', 's4', 'four'], // Cid's only product leaves: Cid is gone
      ['Eve Su', 's2', 'two'], // s2 leaves Ann for Eve...
      ['Ann Lee', 's5', 'five'],
      ['Ann Lee', 's2', 'two, back'], // ...and comes back in the same file: Eve never keeps it
      ['Fay Oh', 's6', 'six'],
      ['Fay Oh', 's6', 'six again'], // a repeat: still one product
    ]),
  );
  await ingest(second);
  const expected = expectedFromFiles(first, second);
  expect(await diffTables(t.pool, expected)).toEqual(exact(expected));
  expect(await rows(t.pool, 'SELECT name, no_of_products FROM product_count ORDER BY name')).toEqual([
    { name: 'Ann Lee', no_of_products: 2 },
    { name: 'Bob Ray', no_of_products: 2 },
    { name: 'Dee Ko', no_of_products: 1 },
    { name: 'Fay Oh', no_of_products: 1 },
  ]);
  // and the aggregate is what a GROUP BY says
  expect(await rows(t.pool, 'SELECT name, no_of_products FROM product_count ORDER BY name')).toEqual(
    await rows(t.pool, 'SELECT name, count(*)::integer AS no_of_products FROM products GROUP BY name ORDER BY name'),
  );
});

test('duplicate recounts change nothing; poison messages are dead-lettered with their reason and their partitions keep flowing', async () => {
  const file = writeTmp(
    t,
    'base.csv',
    csv([
      ['Ann Lee', 'a1', 'x'],
      ['Ann Lee', 'a2', 'x'],
      ['Bob Ray', 'b1', 'x'],
    ]),
  );
  await ingest(file);
  // Drift the aggregate behind dasy's back: only recounts can repair it.
  await t.pool.query(`UPDATE product_count SET no_of_products = 99 WHERE name = 'Ann Lee'`);
  await t.pool.query(`INSERT INTO product_count (name, no_of_products) VALUES ('Nobody Here', 5)`);

  const parts = pipelineParts(t, 1);
  for (const p of [...parts.products, parts.relay, parts.counter]) p.start();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const countTopic = topicName(t.namespace, 'productCount');
  const productsTopic = topicName(t.namespace, 'products');
  const partition0Before = (await endOffsets(admin, countTopic)).get(0)!;
  // All on partition 0, in this order: duplicates, the poison, then more work behind it.
  await producer.send({
    topic: countTopic,
    acks: -1,
    messages: [
      { key: 'Ann Lee', value: 'Ann Lee', partition: 0 },
      { key: 'Ann Lee', value: 'Ann Lee', partition: 0 },
      { key: '', value: 'no key', partition: 0 },
      { key: 'Ann Lee', value: 'Ann Lee', partition: 0 },
      { key: 'Nobody Here', value: 'Nobody Here', partition: 0 },
      { key: 'Bob Ray', value: 'Bob Ray', partition: 0 },
    ],
  });
  // A products message that is not JSON, then a good product on the same partition.
  const p = partitionFor('c1', TOPICS.products.partitions);
  await producer.send({
    topic: productsTopic,
    acks: -1,
    messages: [
      { key: 'c1', value: '{not json', partition: p },
      { key: 'c1', value: JSON.stringify({ sku: 'c1', name: 'Cid Poe', description: 'after the poison', line: 0, record: 0 }), partition: p },
    ],
  });
  await producer.disconnect();

  await waitFor(
    'both groups applied everything',
    async () => (await appliedAll(t, admin, 'products', 'products-consumer')) && (await appliedAll(t, admin, 'productCount', 'product-count-consumer')),
  );
  await caughtUp(t, admin);
  for (const part of [...parts.products, parts.relay, parts.counter]) await part.stop();

  const expected = expectedFromFiles(file);
  expected.products.set('c1', { name: 'Cid Poe', description: 'after the poison' });
  expected.counts.set('Cid Poe', 1);
  expect(await diffTables(t.pool, expected)).toEqual(exact(expected));

  const [countDead] = await readMessages(kafka, deadLetterTopic(countTopic), 1);
  expect(countDead).toMatchObject({
    key: '',
    value: 'no key',
    headers: {
      'dasy-reason': 'message key (the name to recount) is missing or empty',
      'dasy-source-topic': countTopic,
      'dasy-source-partition': '0',
      'dasy-source-offset': String(partition0Before + 2n),
    },
  });
  const [productDead] = await readMessages(kafka, deadLetterTopic(productsTopic), 1);
  expect(productDead).toMatchObject({
    key: 'c1',
    value: '{not json',
    headers: { 'dasy-reason': 'value is not JSON', 'dasy-source-topic': productsTopic, 'dasy-source-partition': String(p) },
  });
  expect([await messagesIn(admin, deadLetterTopic(countTopic)), await messagesIn(admin, deadLetterTopic(productsTopic))]).toEqual([1, 1]);
  // each part said what it dead-lettered
  expect(linesMatching(parts.counter.stderr(), /dead-lettered 1 message/).length).toBe(1);
  expect(linesMatching(parts.products[0].stderr(), /dead-lettered 1 message/).length).toBe(1);
});

test('the relay SIGKILLed between its send and the deletion of its marks: the marks stay, are sent again, counts exact', async () => {
  const records: [string, string, string][] = [];
  for (let i = 0; i < 300; i++) records.push([`Name ${i % 40}`, `sku-${i}`, `d${i}`]);
  for (let i = 0; i < 60; i++) records.push([`Other ${i % 7}`, `sku-${i * 5}`, `moved`]); // some skus move
  const file = writeTmp(t, 'relay.csv', csv(records));
  const expected = expectedFromFiles(file);
  const countTopic = topicName(t.namespace, 'productCount');

  // Products applied first, with no relay: every mark waits in the outbox.
  const parts = pipelineParts(t, 1);
  parts.products[0].start();
  const produced = await runCli(t, ['products-producer', '--file', file, '--rejects', path.join(t.tmp, 'rejects.csv')]);
  expect(produced.code).toBe(0);
  await waitFor('products applied', () => appliedAll(t, admin, 'products', 'products-consumer'));
  const marksOf = async () =>
    (await rows<{ name: string }>(t.pool, 'SELECT unnest(names) AS name FROM product_count_outbox WHERE namespace = $1 ORDER BY id', [t.namespace])).map(
      (r) => r.name,
    );
  const marks = await marksOf();
  const names = [...new Set(marks)].sort();
  expect(names.length).toBeGreaterThan(0);

  // The relay kills itself (SIGKILL) once the broker acknowledged its names, before it deletes their marks.
  // (a hook of the development entry point only: the shipped dasy has no such switch)
  const doomed = startCli(t, ['product-count-producer', '--kill-after-send'], {}, DEV_CLI);
  const { signal } = await doomed.exited;
  expect(signal).toBe('SIGKILL');
  expect(linesMatching(doomed.stderr(), /--kill-after-send: \d+ name\(s\) sent/)).toEqual([
    `dasy: --kill-after-send: ${names.length} name(s) sent; killing this process before the drain deletes its marks`,
  ]);
  // Sent, yet still marked: the process died before its deletion.
  expect(await messagesIn(admin, countTopic)).toBe(names.length);
  expect(await marksOf()).toEqual(marks);

  // Restarted, it sends them again (a duplicate recount of each), and the counts are exact.
  parts.relay.start();
  parts.counter.start();
  await waitFor('the outbox drained', async () => (await marksOf()).length === 0);
  await caughtUp(t, admin);
  for (const part of [parts.products[0], parts.relay, parts.counter]) await part.stop();
  expect(await messagesIn(admin, countTopic)).toBe(2 * names.length);
  const sent = await readMessages(kafka, countTopic, 2 * names.length);
  const times = new Map<string, number>();
  for (const m of sent) times.set(m.key!, (times.get(m.key!) ?? 0) + 1);
  expect([...times.entries()].sort()).toEqual(names.map((n) => [n, 2]));
  expect(await diffTables(t.pool, expected)).toEqual(exact(expected));
});

test('large records: a valid one over 1 MB once JSON-escaped is stored exactly; one over 1 MiB is rejected without stopping the ingest', async () => {
  const big = 'x\u0001'.repeat(200_000); // 400 KB of CSV, 1.4 MB of JSON (\u0001 takes six bytes there)
  const huge = 'y'.repeat(1_100_000); // over the 1 MiB record limit
  const file = writeTmp(
    t,
    'large.csv',
    csv([
      ['Ann Lee', 'small-1', 'small'],
      ['Ann Lee', 'big-1', big],
      ['Bob Ray', 'huge-1', huge],
      ['Bob Ray', 'small-2', 'small'],
    ]),
  );
  const summary = await ingest(file);
  expect([summary.accepted, summary.rejected]).toEqual([3, 1]);
  const expected = expectedFromFiles(file);
  expected.products.delete('huge-1');
  expected.counts.set('Bob Ray', 1);
  expect(await diffTables(t.pool, expected)).toEqual(exact(expected));
  const [reject] = await readMessages(kafka, topicName(t.namespace, 'productsRejects'), 1);
  const value = JSON.parse(reject.value!);
  expect([reject.key, value.line, value.reason, value.raw.length, value.rawTruncated]).toEqual(['large.csv:4', 4, 'record larger than 1 MiB', 64 * 1024, true]);
});
