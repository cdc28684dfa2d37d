import * as fs from 'fs';
import { childProcesses, createTestEnv, runCli, startCli, TestEnv, waitFor } from './harness';

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
  [['products-consumer', '--consumers', '2'], 'SIGTERM', ['dasy-products-consumer'], 'products-consumer'],
  [['products-consumer', '--consumers', '1'], 'SIGINT', ['dasy-products-consumer'], 'products-consumer'],
  [['product-count-producer'], 'SIGTERM', ['dasy-product-count-producer'], undefined],
  [['product-count-consumer'], 'SIGTERM', ['dasy-product-count-consumer'], 'product-count-consumer'],
  // the relay and the product-count consumer in one process, as ingest runs them
  [['product-count'], 'SIGTERM', ['dasy-product-count-consumer', 'dasy-product-count-producer'], 'product-count-consumer'],
] as const)('%j stops on %s with exit code 0, printing only that it joined', async (args, signal, appNames, group) => {
  const running = startCli(t, [...args]);
  // Up means: it holds its PostgreSQL pools (the consumer or relay has started).
  await waitFor(
    `${args[0]} to start`,
    async () => {
      const joined = await joinedGroups();
      return appNames.every((n) => joined.includes(n));
    },
    30000,
  );
  // a consumer process says once that it joined its group (stdout); nothing else, no log lines
  const processes = group === undefined ? 0 : Number(args[2] ?? 1);
  const joinLines = () => running.stdout().split('\n').filter(Boolean).length;
  await waitFor(`${processes} process(es) to join the group`, async () => joinLines() === processes, 30000);
  running.child.kill(signal);
  const { code, signal: killedBy } = await running.exited;
  const joined = `${args[0]} running in group ${t.namespace}.${group}, partitions `;
  const lines = running.stdout().split('\n').filter(Boolean);
  expect({ code, killedBy, stderr: running.stderr(), lines: lines.length }).toEqual({ code: 0, killedBy: null, stderr: '', lines: processes });
  for (const line of lines) expect(line).toMatch(new RegExp(`^${joined.replace(/\./g, '\\.')}(\\d+(,\\d+)*|none)$`));
});

test('the parts a supervisor forks run with 16 MB semi-spaces (README: Memory)', async () => {
  const running = startCli(t, ['products-consumer', '--consumers', '2']);
  try {
    await waitFor('2 processes to join the group', async () => running.stdout().split('\n').filter(Boolean).length === 2, 30000);
    const children = childProcesses(running.child.pid!)
      .map((child) => child.argv)
      .filter((argv) => argv.includes('products-consumer'));
    expect(children.map((argv) => argv.filter((a) => a.startsWith('--max-semi-space-size')))).toEqual([
      ['--max-semi-space-size=16'],
      ['--max-semi-space-size=16'],
    ]);
  } finally {
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  }
});

/** A process's Node memory flags, from its command line (Linux: /proc). */
const memoryFlags = (pid: number) =>
  fs
    .readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((a) => /^--max-(semi|old)-space-size=/.test(a));

test.each([
  [['product-count-consumer'], {}, ['--max-semi-space-size=16', '--max-old-space-size=192']],
  [['product-count'], {}, ['--max-semi-space-size=16', '--max-old-space-size=256']],
  // a size the user gives wins
  [['product-count'], { NODE_OPTIONS: '--max-old-space-size=300' }, ['--max-semi-space-size=16']],
  [['products-consumer', '--consumers', '1'], {}, []],
] as const)('%j run on its own, with %j, applies the caps its spec declares to itself: %j (README: Memory)', async (args, env, flags) => {
  const running = startCli(t, [...args], env);
  try {
    await waitFor('it joined its group', async () => running.stdout().includes('running in group'), 30000);
    // the same process, started again by itself with the flags (execve keeps its pid)
    expect(memoryFlags(running.child.pid!)).toEqual(flags);
  } finally {
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  }
});

test("the outboxes' arrays are compressed with lz4 where PostgreSQL has it, pglz otherwise", async () => {
  const lz4 = await t.pool.query('CREATE TEMP TABLE dasy_lz4_probe (x text COMPRESSION lz4)').then(
    () => true,
    () => false,
  );
  const { rows } = await t.pool.query<{ attname: string; attcompression: string }>(
    `SELECT attname, attcompression FROM pg_attribute
      WHERE attrelid IN ('product_count_outbox'::regclass, 'dasy_dataset_outbox'::regclass) AND attname IN ('names', 'keys') ORDER BY attname`,
  );
  const method = lz4 ? 'l' : '';
  expect(rows).toEqual([
    { attname: 'keys', attcompression: method },
    { attname: 'names', attcompression: method },
  ]);
});

test('status shows every group with per-partition lag, and the table counts', async () => {
  const r = await runCli(t, ['status', '--json']);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report.namespace).toBe(t.namespace);
  expect(
    report.groups.map((g: { group: string; topic: string; partitions: unknown[]; lag: string; verdict: string }) => [
      g.group,
      g.topic,
      g.partitions.length,
      g.lag,
      g.verdict,
    ]),
  ).toEqual([
    [`${t.namespace}.products-consumer`, `${t.namespace}.products`, 6, '0', 'caught up'],
    [`${t.namespace}.product-count-consumer`, `${t.namespace}.product-count`, 6, '0', 'caught up'],
    [`${t.namespace}.scores-consumer`, `${t.namespace}.scores`, 6, '0', 'caught up'],
    [`${t.namespace}.events-consumer`, `${t.namespace}.ad-events`, 6, '0', 'caught up'],
  ]);
  // every consumer's dead-letter topic, empty
  expect(report.deadLetters).toEqual(
    Object.fromEntries(
      ['products', 'product-count', 'scores', 'ad-events'].map((topic) => [`${t.namespace}.${topic}.dlq`, { messages: '0', lastReason: null, lastAt: null }]),
    ),
  );
  expect(report.tables).toEqual({ products: 0, product_count: 0 });
  expect(report.outbox).toBe(0);
});
