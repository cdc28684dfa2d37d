import { randomBytes } from 'crypto';
import { Admin, Kafka } from '../../libs/kafka/port';
import { encodeProductValue } from '../../libs/kafka/product-value';
import { deadLetterTopic, endOffsets, topicName } from '../../libs/kafka/topics';
import { appliedAll, caughtUp, kafkaOf, linesMatching, pipelineParts, readMessages, ReadMessage } from './faults-kit';
import { createTestEnv, rows, TestEnv, waitFor } from './harness';

/**
 * DESIGN.md §6: a message PostgreSQL refuses for good (SQLSTATE class 54, 22 or 23) goes to
 * `<topic>.dlq` alone with its reason, the rest of its batch is applied, later records of its sku
 * win, and its partition goes on. Each case's messages are sent to one partition in one request,
 * before or while the products consumer runs: one record batch, so one batch of the consumer.
 * The keys over the btree's limit are sent straight to the topic, past the ingest rule.
 */

let t: TestEnv;
let kafka: Kafka;
let admin: Admin;
let parts: ReturnType<typeof pipelineParts>;
beforeAll(async () => {
  t = await createTestEnv('refusals');
  kafka = kafkaOf(t);
  admin = kafka.admin();
  await admin.connect();
  // (new topics: ask until the broker has their leaders)
  await waitFor('the topics have their leaders', async () => (await endOffsets(admin, productsTopic())).size > 0, 30000, 200);
  parts = pipelineParts(t, 1);
  for (const p of [...parts.products, parts.relay, parts.counter]) p.start();
}, 60000);
afterAll(async () => {
  for (const p of [...(parts?.products ?? []), parts?.relay, parts?.counter]) await p?.stop();
  await admin?.disconnect();
  await t?.cleanup();
});

const productsTopic = () => topicName(t.namespace, 'products');

/** Random letters and digits: a key PostgreSQL cannot compress into the index row (a hash, a URL). */
const incompressible = (n: number) => randomBytes(n).toString('hex').slice(0, n);

type Change = { sku: string; name: string; description?: string };

/** The messages to one partition in one request (one record batch); the offset of each. */
async function send(partition: number, changes: Change[]): Promise<bigint[]> {
  const start = (await endOffsets(admin, productsTopic())).get(partition)!;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: productsTopic(),
      acks: -1,
      messages: changes.map((c) => ({ key: c.sku, value: encodeProductValue(c.name, c.description ?? `${c.sku} text`), partition })),
    });
  } finally {
    await producer.disconnect();
  }
  return changes.map((_, i) => start + BigInt(i));
}

async function applied() {
  await waitFor('the products consumer applied every message', () => appliedAll(t, admin, 'products', 'products-consumer'), 90000, 200);
  await caughtUp(t, admin);
}

const productsLike = (prefix: string) => rows(t.pool, `SELECT sku, name, description FROM products WHERE sku LIKE $1 ORDER BY sku`, [`${prefix}%`]);
const countsOf = (names: string[]) => rows(t.pool, `SELECT name, no_of_products FROM product_count WHERE name = ANY($1) ORDER BY name`, [names]);

/** The dead letters of one source partition, as read from `<ns>.products.dlq` (all of them, in order). */
async function deadLetters(partition: number, total: number): Promise<ReadMessage[]> {
  const all = await readMessages(kafka, deadLetterTopic(productsTopic()), total);
  return all.filter((m) => m.headers['dasy-source-partition'] === String(partition));
}

const letter = (sku: string, offset: bigint, reason: RegExp, partition: number) => ({
  key: sku,
  headers: {
    'dasy-reason': expect.stringMatching(reason),
    'dasy-source-topic': productsTopic(),
    'dasy-source-partition': String(partition),
    'dasy-source-offset': String(offset),
  },
});

test('class 54: a sku and names over the btree row limit (index row size, 54000) are dead-lettered alone; the rest applied, later records win, the partition goes on', async () => {
  const longSku = incompressible(3200);
  const longName = incompressible(3200);
  const offsets = await send(0, [
    { sku: 'k54-a', name: 'Ann' },
    { sku: longSku, name: 'Bob' }, // products_pkey refuses it
    { sku: 'k54-a', name: 'Ann later' }, // the later record of a sku wins
    { sku: 'k54-b', name: longName }, // products_name_idx refuses it
    { sku: 'k54-b', name: 'Cid' }, // a later record of the refused one's sku: applied
    { sku: 'k54-c', name: 'Dee' },
    { sku: 'k54-c', name: longName + 'x' }, // refused: the earlier record stands
  ]);
  await applied();
  expect(await productsLike('k54-')).toEqual([
    { sku: 'k54-a', name: 'Ann later', description: 'k54-a text' },
    { sku: 'k54-b', name: 'Cid', description: 'k54-b text' },
    { sku: 'k54-c', name: 'Dee', description: 'k54-c text' },
  ]);
  expect(await rows(t.pool, 'SELECT count(*)::integer AS n FROM products WHERE length(sku) > 100 OR length(name) > 100')).toEqual([{ n: 0 }]);
  expect(await countsOf(['Ann', 'Ann later', 'Bob', 'Cid', 'Dee'])).toEqual([
    { name: 'Ann later', no_of_products: 1 },
    { name: 'Cid', no_of_products: 1 },
    { name: 'Dee', no_of_products: 1 },
  ]);
  const index = (name: string) => new RegExp(`^rejected by PostgreSQL: index row size \\d+ exceeds btree version 4 maximum 2704 for index "${name}"`);
  expect(await deadLetters(0, 3)).toEqual([
    expect.objectContaining(letter(longSku, offsets[1], index('products_pkey'), 0)),
    expect.objectContaining(letter('k54-b', offsets[3], index('products_name_idx'), 0)),
    expect.objectContaining(letter('k54-c', offsets[6], index('products_name_idx'), 0)),
  ]);
  // the three in one send, before the one commit that skips them; counted once
  expect(linesMatching(parts.products[0].stderr(), /dead-lettered 3 message\(s\)/).length).toBe(1);
  expect(await rows(t.pool, `SELECT messages::integer FROM dasy_dead_letters WHERE topic = $1`, [deadLetterTopic(productsTopic())])).toEqual([{ messages: 3 }]);

  // the partition is not stalled: the next record of the same sku is applied
  await send(0, [{ sku: 'k54-a', name: 'Ann last' }]);
  await applied();
  expect((await productsLike('k54-a')).map((r) => r.name)).toEqual(['Ann last']);
});

test('class 22: a description too long for a column an operator narrowed to varchar(100) (22001) is dead-lettered alone; the rest applied', async () => {
  await t.pool.query('ALTER TABLE products ALTER COLUMN description TYPE varchar(100)');
  try {
    const offsets = await send(1, [
      { sku: 'k22-a', name: 'Eve', description: 'short' },
      { sku: 'k22-a', name: 'Eve', description: 'x'.repeat(101) }, // refused: the earlier record stands
      { sku: 'k22-b', name: 'Fay', description: 'y'.repeat(101) }, // refused
      { sku: 'k22-b', name: 'Fay', description: 'fits' }, // the later record of its sku: applied
      { sku: 'k22-c', name: 'Gus', description: 'z'.repeat(100) },
    ]);
    await applied();
    expect(await productsLike('k22-')).toEqual([
      { sku: 'k22-a', name: 'Eve', description: 'short' },
      { sku: 'k22-b', name: 'Fay', description: 'fits' },
      { sku: 'k22-c', name: 'Gus', description: 'z'.repeat(100) },
    ]);
    expect(await countsOf(['Eve', 'Fay', 'Gus'])).toEqual(['Eve', 'Fay', 'Gus'].map((name) => ({ name, no_of_products: 1 })));
    const tooLong = /^rejected by PostgreSQL: value too long for type character varying\(100\)$/;
    expect(await deadLetters(1, 5)).toEqual([
      expect.objectContaining(letter('k22-a', offsets[1], tooLong, 1)),
      expect.objectContaining(letter('k22-b', offsets[2], tooLong, 1)),
    ]);
  } finally {
    await t.pool.query('ALTER TABLE products ALTER COLUMN description TYPE text');
  }
  await send(1, [{ sku: 'k22-a', name: 'Eve', description: 'x'.repeat(101) }]);
  await applied();
  expect((await productsLike('k22-a')).map((r) => (r.description as string).length)).toEqual([101]);
});

test("class 23: a name an operator's CHECK constraint forbids (23514) is dead-lettered alone; the rest applied", async () => {
  await t.pool.query(`ALTER TABLE products ADD CONSTRAINT test_no_placeholder CHECK (name <> 'TBD')`);
  try {
    const offsets = await send(2, [
      { sku: 'k23-a', name: 'Hal' },
      { sku: 'k23-a', name: 'TBD' }, // refused: the earlier record stands
      { sku: 'k23-b', name: 'TBD' }, // refused
      { sku: 'k23-b', name: 'Ida' },
      { sku: 'k23-c', name: 'Jo' },
    ]);
    await applied();
    expect(await productsLike('k23-')).toEqual([
      { sku: 'k23-a', name: 'Hal', description: 'k23-a text' },
      { sku: 'k23-b', name: 'Ida', description: 'k23-b text' },
      { sku: 'k23-c', name: 'Jo', description: 'k23-c text' },
    ]);
    expect(await countsOf(['Hal', 'Ida', 'Jo', 'TBD'])).toEqual(['Hal', 'Ida', 'Jo'].map((name) => ({ name, no_of_products: 1 })));
    const check = /^rejected by PostgreSQL: new row for relation "products" violates check constraint "test_no_placeholder"$/;
    expect(await deadLetters(2, 7)).toEqual([
      expect.objectContaining(letter('k23-a', offsets[1], check, 2)),
      expect.objectContaining(letter('k23-b', offsets[2], check, 2)),
    ]);
  } finally {
    await t.pool.query('ALTER TABLE products DROP CONSTRAINT test_no_placeholder');
  }
  expect(await rows(t.pool, `SELECT messages::integer FROM dasy_dead_letters WHERE topic = $1`, [deadLetterTopic(productsTopic())])).toEqual([{ messages: 7 }]);
});
