import { Admin, Kafka, KafkaMessage } from '../../libs/kafka/port';
import { PoolClient } from 'pg';
import { BatchApp, BatchConsumer, BatchInfo, createBatchConsumer } from '../../libs/consumer';
import { createPool } from '../../libs/db';
import { createKafka } from '../../libs/kafka/client';
import { endOffsets } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';
import { sleep } from './faults-kit';
import { createTestEnv, rows, TestEnv, waitFor } from './harness';

/**
 * DESIGN.md §6, the fence: a consumer that lost its partitions but keeps running (a zombie: here
 * one stuck in a batch past its session timeout) cannot commit. Consumer A takes a batch of each
 * partition and stalls before its transaction; B joins the group, gets every partition once A's
 * session expired, and applies and commits them; then A wakes up and tries to commit its stale
 * batches. The compare-and-set on the stored offset rolls them back, so every offset is applied
 * exactly once. A tiny BatchApp records (partition, offset, consumer) rows, with no unique key:
 * a double application would show as two rows.
 */

let t: TestEnv;
let admin: Admin;
const quiet = createLogger('zombie-test', 'error');
beforeAll(async () => {
  t = await createTestEnv('faultszombie');
  admin = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'zombie-admin', logger: quiet }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: topic(), numPartitions: 2, replicationFactor: 1 }], waitForLeaders: false });
  // (kafkajs's own wait can ask the broker before its metadata has the topic: ask until it has)
  await waitFor(
    'the topic has its leaders',
    async () => (await admin.fetchTopicMetadata({ topics: [topic()] })).topics[0]?.partitions.every((p) => p.leader >= 0),
    30000,
  );
  await t.pool.query(`CREATE TABLE zombie_applied (partition integer NOT NULL, "offset" bigint NOT NULL, consumer text NOT NULL)`);
});
afterAll(async () => {
  await admin?.disconnect();
  await t?.cleanup();
});

const topic = () => `${t.namespace}.zombie`;

function recorder(consumer: string): BatchApp<{ partition: number; offset: string }> {
  return {
    decode: (message: KafkaMessage, partition: number) => ({ partition, offset: String(message.offset) }),
    async apply(client: PoolClient, items) {
      await client.query(`INSERT INTO zombie_applied (partition, "offset", consumer) SELECT * FROM unnest($1::integer[], $2::bigint[], $3::text[])`, [
        items.map((i) => i.partition),
        items.map((i) => i.offset),
        items.map(() => consumer),
      ]);
    },
  };
}

async function produce(kafka: Kafka, from: number, count: number) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // both partitions get messages, so the zombie holds a batch of each
  await producer.send({
    topic: topic(),
    acks: -1,
    messages: Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}`, partition: (from + i) % 2 })),
  });
  await producer.disconnect();
}

async function storedEqualsEnd(): Promise<boolean> {
  const end = await endOffsets(admin, topic());
  const stored = await rows<{ partition: number; next_offset: string }>(
    t.pool,
    'SELECT partition, next_offset FROM dasy_consumer_offsets WHERE group_id = $1 AND topic = $2',
    [`${t.namespace}.zombie`, topic()],
  );
  const at = new Map(stored.map((r) => [r.partition, BigInt(r.next_offset)]));
  return [...end].every(([p, high]) => at.get(p) === high);
}

test('a consumer that lost its partitions while stuck in a batch cannot commit it: every offset applied exactly once', async () => {
  const kafkaA = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'zombie-a', logger: quiet });
  const kafkaB = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'zombie-b', logger: quiet });
  await produce(kafkaA, 0, 40);
  const firstWaveEnd = await endOffsets(admin, topic());

  const logA: string[] = [];
  const stuck: BatchInfo[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let blocking = true;
  const base = { groupId: `${t.namespace}.zombie`, topic: topic(), sessionTimeout: 6000, maxWaitTimeInMs: 100 };
  // A's connections to PostgreSQL wait while it is blocked: its batches stall before their
  // transaction starts, with no heartbeat meanwhile, so the group loses track of A after its
  // session timeout (the consumer heartbeats only between batches).
  const poolA = createPool({
    databaseUrl: t.databaseUrl,
    namespace: t.namespace,
    max: 4,
    applicationName: 'zombie-a',
    idleInTransactionMs: t.config.pgIdleInTransactionMs,
  });
  const connectA = poolA.connect.bind(poolA) as (...args: unknown[]) => unknown;
  poolA.connect = (async (...args: unknown[]) => {
    if (blocking) await released;
    return connectA(...args);
  }) as unknown as typeof poolA.connect;
  const a: BatchConsumer = createBatchConsumer({
    ...base,
    pool: poolA,
    kafka: kafkaA,
    logger: createLogger('A', 'debug', (line) => logA.push(line)),
    app: recorder('A'),
  });
  a.events.on('batch:fetched', (batch) => blocking && stuck.push(batch));
  const fenced: BatchInfo[] = [];
  a.events.on('fenced', (batch) => fenced.push(batch));
  const b: BatchConsumer = createBatchConsumer({ ...base, pool: t.pool, kafka: kafkaB, logger: quiet, app: recorder('B') });
  try {
    await a.start();
    await waitFor('A stuck in a batch of each partition', async () => new Set(stuck.map((s) => s.partition)).size === 2, 30000);

    // B joins; once A's session expired, B owns both partitions and applies everything.
    await b.start();
    await waitFor('B applied and committed the first wave', storedEqualsEnd, 60000);
    expect(await rows(t.pool, `SELECT consumer, count(*)::integer AS n FROM zombie_applied GROUP BY consumer`)).toEqual([{ consumer: 'B', n: 40 }]);

    // A wakes up and tries to commit its stale batches: the fence rolls each back.
    blocking = false;
    release();
    await waitFor('A fenced off both stale batches', async () => stuck.every((s) => logA.some((l) => l.includes(mismatch(s)))), 30000);
    // the events say the same: exactly the stale batches were fenced
    expect(fenced.filter((f) => stuck.some((s) => s.partition === f.partition && s.firstOffset === f.firstOffset)).length).toBe(stuck.length);
    expect(await rows(t.pool, `SELECT consumer, count(*)::integer AS n FROM zombie_applied GROUP BY consumer`)).toEqual([{ consumer: 'B', n: 40 }]);

    // Both go on as one group; more messages are applied once, by whoever owns their partition.
    await produce(kafkaB, 40, 40);
    await waitFor('the second wave applied', storedEqualsEnd, 60000);
    await sleep(500); // a stale duplicate would have landed by now
  } finally {
    release();
    await Promise.all([a.stop(), b.stop()]);
    await poolA.end();
  }
  const counts = await rows<{ partition: number; offset: string; n: number }>(
    t.pool,
    `SELECT partition, "offset", count(*)::integer AS n FROM zombie_applied GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const end = await endOffsets(admin, topic());
  const want: { partition: number; offset: string; n: number }[] = [];
  for (const [p, high] of [...end].sort((x, y) => x[0] - y[0])) for (let o = 0n; o < high; o++) want.push({ partition: p, offset: String(o), n: 1 });
  expect(counts).toEqual(want);
  expect(want.length).toBe(80);
  // A applied nothing of the first wave: its batches there were the stale ones
  const aFirstWave = await rows<{ n: number }>(
    t.pool,
    `SELECT count(*)::integer AS n FROM zombie_applied WHERE consumer = 'A' AND ((partition = 0 AND "offset" < $1) OR (partition = 1 AND "offset" < $2))`,
    [String(firstWaveEnd.get(0)), String(firstWaveEnd.get(1))],
  );
  expect(aFirstWave).toEqual([{ n: 0 }]);

  function mismatch(s: BatchInfo): string {
    return `${topic()}[${s.partition}] for ${t.namespace}.zombie: batch starts at ${s.firstOffset} but the stored offset is ${firstWaveEnd.get(s.partition)}`;
  }
});
