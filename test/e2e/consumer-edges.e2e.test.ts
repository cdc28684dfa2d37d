import { Admin, Kafka, KafkaMessage } from '../../libs/kafka/port';
import { Pool, PoolClient } from 'pg';
import { BatchApp, BatchConsumer, BatchInfo, createBatchConsumer, DeadLetter } from '../../libs/consumer';
import { createPool } from '../../libs/db';
import { PoisonMessageError } from '../../libs/errors';
import { createKafka } from '../../libs/kafka/client';
import { deadLetterTopic, endOffsets } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';
import { readMessages, sleep } from './faults-kit';
import { createTestEnv, rows, TestEnv, waitFor } from './harness';

/**
 * The consumer base's edges, with a tiny app on real Kafka and PostgreSQL:
 * - no PostgreSQL transaction stays open across a Kafka call: with the dead-letter topic gone, a
 *   batch holding a poison message waits for its dead letter outside any transaction, and skips
 *   the message only once it is in `<topic>.dlq`;
 * - an afterCommit hook that throws is not a failed commit.
 */

let t: TestEnv;
let admin: Admin;
let kafka: Kafka;
const quiet = createLogger('edges-test', 'error');
beforeAll(async () => {
  t = await createTestEnv('consumeredges');
  kafka = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'edges-test', logger: quiet });
  admin = kafka.admin();
  await admin.connect();
  for (const topic of [topicOf('dlq'), deadLetterTopic(topicOf('dlq')), topicOf('after')]) await createTopic(topic);
  await t.pool.query(`CREATE TABLE edges_applied (topic text NOT NULL, "offset" bigint NOT NULL, value text NOT NULL)`);
  await t.pool.query(`CREATE TABLE edges_dead (topic text NOT NULL, "offset" bigint NOT NULL, reason text NOT NULL)`);
});
afterAll(async () => {
  await admin?.disconnect();
  await t?.cleanup();
});

const topicOf = (name: string) => `${t.namespace}.edges-${name}`;

async function createTopic(topic: string) {
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: false });
  // (kafkajs's own wait can ask the broker before its metadata has the topic: ask until it has)
  await waitFor(
    'the topic has its leader',
    async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.every((p) => p.leader >= 0),
    30000,
  );
}

/** Records each applied message, and, in the batch's transaction, each dead letter; "poison" never decodes. */
function recorder(hooks: Partial<BatchApp<{ offset: string; value: string }>> = {}): BatchApp<{ offset: string; value: string }> {
  return {
    decode(message: KafkaMessage) {
      const value = message.value?.toString('utf8') ?? '';
      if (value === 'poison') throw new PoisonMessageError('a poison value');
      return { offset: String(message.offset), value };
    },
    async apply(client: PoolClient, items, batch: BatchInfo) {
      await client.query(`INSERT INTO edges_applied SELECT $1, * FROM unnest($2::bigint[], $3::text[])`, [
        batch.topic,
        items.map((i) => i.offset),
        items.map((i) => i.value),
      ]);
    },
    async deadLettered(client: PoolClient, letters: DeadLetter[], batch: BatchInfo) {
      await client.query(`INSERT INTO edges_dead SELECT $1, * FROM unnest($2::bigint[], $3::text[])`, [
        batch.topic,
        letters.map((l) => l.offset.toString()),
        letters.map((l) => l.reason),
      ]);
    },
    ...hooks,
  };
}

async function produce(topic: string, values: string[]) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: 'k', value })) });
  await producer.disconnect();
}

async function storedAtEnd(group: string, topic: string): Promise<boolean> {
  const end = (await endOffsets(admin, topic)).get(0)!;
  const stored = await rows<{ next_offset: string }>(t.pool, 'SELECT next_offset FROM dasy_consumer_offsets WHERE group_id = $1 AND topic = $2', [
    group,
    topic,
  ]);
  return stored.length === 1 && BigInt(stored[0].next_offset) === end;
}

function consumer(name: string, pool: Pool, app: BatchApp<{ offset: string; value: string }>, log: string[] = []): BatchConsumer {
  return createBatchConsumer({
    kafka,
    pool,
    logger: createLogger(name, 'info', (line) => log.push(line)),
    groupId: `${t.namespace}.edges-${name}`,
    topic: topicOf(name),
    app,
    maxWaitTimeInMs: 100,
    sessionTimeout: 6000,
  });
}

test('a poison message waits for its dead letter outside any transaction, is skipped only once in the dead-letter topic, and recorded with the offsets', async () => {
  const topic = topicOf('dlq');
  const dlq = deadLetterTopic(topic);
  const pool = createPool({
    databaseUrl: t.databaseUrl,
    namespace: t.namespace,
    max: 2,
    applicationName: 'edges-dlq',
    idleInTransactionMs: t.config.pgIdleInTransactionMs,
  });
  const c = consumer('dlq', pool, recorder());
  try {
    await c.start();
    await c.joined();
    await admin.deleteTopics({ topics: [dlq] });
    await waitFor('the dead-letter topic is gone', async () => !(await admin.listTopics()).includes(dlq), 30000);
    await produce(topic, ['a', 'poison', 'b']);

    // The dead letter cannot be sent for 6 s: meanwhile no transaction of the consumer stays open
    // (sampled every 100 ms), and nothing of the batch is committed.
    let longestOpenMs = 0;
    for (const until = Date.now() + 6000; Date.now() < until;) {
      const open = await rows<{ ms: number }>(
        t.pool,
        `SELECT coalesce(max(extract(epoch FROM now() - xact_start) * 1000), 0)::float8 AS ms FROM pg_stat_activity WHERE application_name = 'edges-dlq' AND xact_start IS NOT NULL`,
      );
      longestOpenMs = Math.max(longestOpenMs, open[0].ms);
      await sleep(100);
    }
    expect(longestOpenMs).toBeLessThan(1000);
    expect(await rows(t.pool, 'SELECT * FROM edges_applied WHERE topic = $1', [topic])).toEqual([]);
    expect(await storedAtEnd(`${t.namespace}.edges-dlq`, topic)).toBe(false);

    // Back: the poison is dead-lettered, then the batch committed without it, its dead letter recorded in the same transaction.
    await createTopic(dlq);
    await waitFor('the batch committed', () => storedAtEnd(`${t.namespace}.edges-dlq`, topic), 60000);
    expect(await rows(t.pool, 'SELECT "offset"::integer, value FROM edges_applied WHERE topic = $1 ORDER BY 1', [topic])).toEqual([
      { offset: 0, value: 'a' },
      { offset: 2, value: 'b' },
    ]);
    expect(await rows(t.pool, 'SELECT "offset"::integer, reason FROM edges_dead WHERE topic = $1', [topic])).toEqual([{ offset: 1, reason: 'a poison value' }]);
    const [letter] = await readMessages(kafka, dlq, 1);
    expect(letter).toMatchObject({ value: 'poison', headers: { 'dasy-reason': 'a poison value', 'dasy-source-offset': '1' } });
  } finally {
    await c.stop();
    await pool.end();
  }
});

test('an afterCommit hook that throws is not a failed commit: no retry, no fence, the partition goes on', async () => {
  const topic = topicOf('after');
  const log: string[] = [];
  const calls: string[][] = [];
  const c = consumer(
    'after',
    t.pool,
    recorder({
      afterCommit(items) {
        calls.push(items.map((i) => i.value));
        if (calls.length === 1) throw new Error('the hook failed');
      },
    }),
    log,
  );
  const fenced: BatchInfo[] = [];
  c.events.on('fenced', (info) => fenced.push(info));
  try {
    await c.start();
    await c.joined();
    await produce(topic, ['x', 'y']);
    await waitFor('the first batch committed', () => storedAtEnd(`${t.namespace}.edges-after`, topic), 30000);
    await produce(topic, ['z']);
    await waitFor('the second batch committed', async () => calls.length === 2, 30000);
    await sleep(1000); // a retry of the first commit would have come by now
  } finally {
    await c.stop();
  }
  expect(calls).toEqual([['x', 'y'], ['z']]);
  expect(fenced).toEqual([]);
  expect(await rows(t.pool, 'SELECT value FROM edges_applied WHERE topic = $1 ORDER BY "offset"', [topic])).toEqual([
    { value: 'x' },
    { value: 'y' },
    { value: 'z' },
  ]);
  expect(log.filter((l) => / ERROR /.test(l)).map((l) => l.replace(/^\S+ /, ''))).toEqual([
    `ERROR after:consumer:${topic}: after committing ${topic}[0]@0: the hook failed`,
  ]);
});
