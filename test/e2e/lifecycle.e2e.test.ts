import { createTestEnv, runCli, startCli, TestEnv, waitFor } from './harness';

/** Long-running commands stop cleanly on SIGTERM/SIGINT and exit 0 (DESIGN.md §4). */

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv('lifecycle');
});
afterAll(async () => t?.cleanup());

async function joinedGroups(): Promise<string[]> {
  const { rows } = await t.pool.query<{ application_name: string }>(
    `SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'dasy-%'`,
  );
  return rows.map((r) => r.application_name).sort();
}

test.each([
  [['products-consumer', '--consumers', '2'], 'SIGTERM', 'dasy-products-consumer'],
  [['products-consumer', '--consumers', '1'], 'SIGINT', 'dasy-products-consumer'],
  [['product-count-producer'], 'SIGTERM', 'dasy-product-count-producer'],
  [['product-count-consumer'], 'SIGTERM', 'dasy-product-count-consumer'],
] as const)('%j stops on %s with exit code 0, printing nothing', async (args, signal, appName) => {
  const running = startCli(t, [...args]);
  // Up means: it holds its PostgreSQL pool (the consumer or relay has started).
  await waitFor(`${args[0]} to start`, async () => (await joinedGroups()).includes(appName), 30000);
  if (args[0] !== 'product-count-producer') await new Promise((r) => setTimeout(r, 1500)); // let it join its group
  running.child.kill(signal);
  const { code, signal: killedBy } = await running.exited;
  expect({ code, killedBy, stdout: running.stdout(), stderr: running.stderr() }).toEqual({ code: 0, killedBy: null, stdout: '', stderr: '' });
});

test('status shows every group with per-partition lag, and the table counts', async () => {
  const r = await runCli(t, ['status', '--json']);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report.namespace).toBe(t.namespace);
  expect(
    report.groups.map((g: { group: string; topic: string; partitions: unknown[]; lag: string }) => [g.group, g.topic, g.partitions.length, g.lag]),
  ).toEqual([
    [`${t.namespace}.products-consumer`, `${t.namespace}.products`, 6, '0'],
    [`${t.namespace}.product-count-consumer`, `${t.namespace}.product-count`, 6, '0'],
  ]);
  expect(report.tables).toEqual({ products: 0, product_count: 0 });
  expect(report.outbox).toBe(0);
});
