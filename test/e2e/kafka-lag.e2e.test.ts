import * as fs from 'fs';
import * as path from 'path';
import { PoolClient } from 'pg';
import { createKafka } from '../../libs/kafka/client';
import { groupId, topicName } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';
import { StatusReport } from '../../apps/status';
import { createTestEnv, rows, runCli, startCli, TestEnv, waitFor } from './harness';
import { describeGroup, GroupPartition } from './kafka-tools';

/**
 * DESIGN.md §6: committed offsets are mirrored to the Kafka consumer group, for monitoring only,
 * so Kafka's own consumer-groups tool shows dasy's lag, the same as `dasy status`.
 */

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv('kafkalag');
});
afterAll(async () => t?.cleanup());

function csv(name: string, skus: string[]): string {
  const file = path.join(t.tmp, name);
  fs.writeFileSync(file, ['name,sku,description', ...skus.map((s, i) => `Name ${i % 37},${s},d`)].join('\n') + '\n');
  return file;
}

async function listGroups(): Promise<{ groups: string[] }> {
  const admin = createKafka({ brokers: t.config.kafkaBrokers, clientId: 'kafka-lag-test', logger: createLogger('test', 'error') }).admin();
  await admin.connect();
  try {
    return { groups: (await admin.listGroups()).groups.map((g) => g.groupId) };
  } finally {
    await admin.disconnect();
  }
}

const skus = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

async function statusJson(): Promise<StatusReport> {
  const r = await runCli(t, ['status', '--json']);
  if (r.code !== 0) throw new Error(`status exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as StatusReport;
}

/** The tool's view and dasy status's, side by side, per partition. */
function compare(tool: GroupPartition[], report: StatusReport, group: string) {
  const g = report.groups.find((x) => x.group === group)!;
  return {
    tool: tool.map((p) => ({ partition: p.partition, current: String(p.current), end: String(p.end), lag: String(p.lag) })),
    status: g.partitions.map((p) => ({ partition: p.partition, current: p.stored, end: p.end, lag: p.lag })),
  };
}

test("after an ingest, every partition of both groups is at its end in Kafka's own tool: lag 0", async () => {
  const r = await runCli(t, ['ingest', '--file', csv('a.csv', skus('a', 600)), '--consumers', '2']);
  expect(r.code).toBe(0);
  for (const [app, topic] of [
    ['products-consumer', 'products'],
    ['product-count-consumer', 'productCount'],
  ] as const) {
    const described = await describeGroup(t, groupId(t.namespace, app));
    const stored = await rows<{ partition: number; next_offset: string }>(
      t.pool,
      'SELECT partition, next_offset FROM dasy_consumer_offsets WHERE group_id = $1 ORDER BY partition',
      [groupId(t.namespace, app)],
    );
    expect(described.map((p) => p.topic)).toEqual(Array(6).fill(topicName(t.namespace, topic)));
    // every partition: current = log end, lag 0; and current is what PostgreSQL stored
    expect(described.map((p) => ({ partition: p.partition, current: p.current, lag: p.lag }))).toEqual(
      described.map((p) => ({ partition: p.partition, current: p.end, lag: 0n })),
    );
    for (const s of stored) expect(described[s.partition].current).toBe(BigInt(s.next_offset));
  }
});

test('mid-ingest, the tool shows a lag > 0 that agrees with dasy status', async () => {
  const group = groupId(t.namespace, 'products-consumer');
  const consumer = startCli(t, ['products-consumer', '--consumers', '1']);
  await waitFor('the consumer joined', async () => consumer.stdout().includes('running in group'), 60000);
  // Hold one product's row: the batch that upserts it waits, and the consumer with it.
  const holder: PoolClient = await t.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM products WHERE sku = 'a-300' FOR UPDATE`);
    const produced = await runCli(t, ['products-producer', '--file', csv('b.csv', [...skus('b', 400), 'a-300', ...skus('c', 400)])]);
    expect(produced.code).toBe(0);
    await waitFor(
      'the consumer waits on the held row',
      async () =>
        (
          await rows(
            t.pool,
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dasy-products-consumer' AND wait_event_type = 'Lock'`,
          )
        ).length > 0,
    );
    const { tool, status } = await waitFor('the mirror caught up with PostgreSQL', async () => {
      const c = compare(await describeGroup(t, group), await statusJson(), group);
      return JSON.stringify(c.tool) === JSON.stringify(c.status) && c;
    });
    expect(tool).toEqual(status);
    expect(tool.reduce((sum, p) => sum + BigInt(p.lag), 0n)).toBeGreaterThan(0n);
  } finally {
    await holder.query('ROLLBACK');
    holder.release();
  }
  // released: the live consumer's mirror reaches the end
  await waitFor('lag 0 in Kafka', async () => (await describeGroup(t, group)).every((p) => p.lag === 0n && p.current === p.end), 60000);
  consumer.child.kill('SIGTERM');
  expect((await consumer.exited).code).toBe(0);
});

test('dasy reset deletes the groups the offsets were mirrored to', async () => {
  const r = await runCli(t, ['reset']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^reset namespace \S+: deleted 9 topic\(s\), 2 consumer group\(s\), 12 stored offset\(s\), emptied \d+ table\(s\)\n$/);
  const { groups } = await listGroups();
  expect(groups.filter((g) => g.startsWith(`${t.namespace}.`))).toEqual([]);
});
