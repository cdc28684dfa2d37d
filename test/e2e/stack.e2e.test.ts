import { createKafka } from '../../libs/kafka/client';
import { topicName } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';
import { createTestEnv, rows, TestEnv } from './harness';

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv('stack');
});
afterAll(async () => t?.cleanup());

test('a message goes through the real broker and comes back, keyed and in order', async () => {
  const kafka = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'stack-test', logger: createLogger('test') });
  const topic = topicName(t.namespace, 'scores');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [1, 2, 3].map((i) => ({ key: 'same-key', value: `v${i}` })) });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `${t.namespace}.stack-test`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          seen.push(`${message.key?.toString() ?? ''}=${message.value?.toString() ?? ''}`);
          if (seen.length === 3) resolve();
        },
      })
      .catch((err: unknown) => process.stderr.write(`consumer.run failed: ${String(err)}\n`));
  });
  await consumer.disconnect();
  expect(seen).toEqual(['same-key=v1', 'same-key=v2', 'same-key=v3']);
});

test("a row round-trips through the real database, in the namespace's schema", async () => {
  await t.pool.query(`INSERT INTO products (sku, name, description) VALUES ($1, $2, $3)`, ['a-b', 'Ann Lee', 'multi\nline, "quoted"']);
  expect(await rows(t.pool, 'SELECT sku, name, description FROM products')).toEqual([{ sku: 'a-b', name: 'Ann Lee', description: 'multi\nline, "quoted"' }]);
  const tables = await rows<{ table_schema: string; table_name: string }>(
    t.pool,
    `SELECT table_schema, table_name FROM information_schema.tables WHERE table_name IN ('products','product_count') ORDER BY 2`,
  );
  expect(tables).toEqual([
    { table_schema: t.namespace, table_name: 'product_count' },
    { table_schema: t.namespace, table_name: 'products' },
  ]);
});
