import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import { Admin, Kafka } from '../../libs/kafka/port';
import { kafkaOf, messagesIn, readMessages, sleep } from './faults-kit';
import { childProcesses, createTestEnv, runCli, RunningCli, startCli, TestEnv, waitFor, writeTmp } from './harness';
import { linesFile, succeed, timeless, tuples } from './datasets-kit';

/**
 * DESIGN.md §6 and §8 for a declared dataset, against the real Kafka and PostgreSQL: a message of
 * `<ns>.<dataset>` that can never be applied goes to `<ns>.<dataset>.dlq` and the rest of its
 * batch is applied; the rows consumers and the followers (relay, recounts) SIGKILLed inside their
 * transactions, mid-ingest, leave the table and its aggregates exactly what the file says (later
 * record wins by key).
 */

let t: TestEnv;
let kafka: Kafka;
let admin: Admin;
beforeAll(async () => {
  t = await createTestEnv('datasetfaults');
  kafka = kafkaOf(t);
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await admin?.disconnect();
  await t?.cleanup();
});

test('poison messages of <ns>.<dataset> go to its .dlq with their reasons; the rest of the batch is applied', async () => {
  const spec = writeTmp(
    t,
    'poison.yaml',
    'name: poison\nkey: id\ncolumns: {id: text, grp: text, n: integer}\naggregates:\n  by_grp:\n    group_by: grp\n    measures: {rows: count, total: sum(n)}\n',
  );
  await succeed(t, ['migrate', 'up', '--dataset', spec]);
  const topic = `${t.namespace}.poison`;
  const row = (id: string, grp: string, n?: string) => JSON.stringify({ id, grp, ...(n === undefined ? {} : { n }) });
  const messages = [
    { key: 'a', value: row('a', 'g1', '1') },
    { key: 'b', value: 'not json' },
    { key: 'c', value: row('c', 'g1', 'x') },
    { key: 'd', value: row('d', 'g2', '4') },
    { key: 'e', value: row('x', 'g2', '5') },
    { key: 'f', value: row('f', 'g2') },
    { key: ' g', value: row('g', 'g2', '1') },
    { key: 'a', value: row('a', 'g2', '10') },
  ];
  // one partition: one batch, in this order
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ ...m, partition: 0 })) });
  await producer.disconnect();

  const file = linesFile(t, 'poison.csv', ['id,grp,n', 'z,g3,7']);
  const r = await runCli(t, ['ingest', '--file', file, '--dataset', spec, '--rejects', path.join(t.tmp, 'poison.rejects.csv')]);
  // the one line on stderr: the rows consumer's warning
  expect({
    code: r.code,
    stderr: r.stderr
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\S+ /, '').replace(/ \{.*$/, '')),
  }).toEqual({
    code: 0,
    stderr: [`WARN dasy:consumer:${topic}: dead-lettered 5 message(s) to ${topic}.dlq`],
  });
  const lines = r.stdout.trim().split('\n');
  expect(timeless(JSON.parse(lines[lines.length - 1]) as Record<string, unknown>)).toEqual({
    file,
    dataset: spec,
    records: 1,
    accepted: 1,
    rejected: 0,
    rows: 3,
    aggregates: { by_grp: 2 },
  });
  expect(await tuples(t, 'SELECT id, grp, n::text FROM poison ORDER BY id')).toEqual([
    ['a', 'g2', '10'],
    ['d', 'g2', '4'],
    ['z', 'g3', '7'],
  ]);
  expect(await tuples(t, 'SELECT grp, "rows"::text, total::text FROM by_grp ORDER BY grp')).toEqual([
    ['g2', '2', '14'],
    ['g3', '1', '7'],
  ]);
  const letters = await readMessages(kafka, `${topic}.dlq`, 5);
  expect(letters.map((l) => [l.key, l.value, l.headers['dasy-reason'], l.headers['dasy-source-topic'], l.headers['dasy-source-offset']])).toEqual([
    ['b', 'not json', 'message value is not JSON', topic, '1'],
    ['c', row('c', 'g1', 'x'), 'n: is not an integer', topic, '2'],
    ['e', row('x', 'g2', '5'), "message key is not the row's key", topic, '4'],
    ['f', row('f', 'g2'), 'n: missing, and the column is required', topic, '5'],
    [' g', row('g', 'g2', '1'), 'message key: id: is not in canonical form ("g")', topic, '6'],
  ]);
  expect(await messagesIn(admin, `${topic}.dlq`)).toBe(5);
  expect(await tuples(t, 'SELECT topic, messages::int FROM dasy_dead_letters')).toEqual([[`${topic}.dlq`, 5]]);
});

/** A deterministic file of `records` records over `keys` keys and `groups` groups (a small LCG from `seed`). */
function generated(records: number, keys: number, groups: number, seed: number): string[] {
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const lines = ['id,grp,n,amt,flag,at'];
  for (let i = 0; i < records; i++) {
    const at = `2024-01-${String(1 + next(28)).padStart(2, '0')}T${String(next(24)).padStart(2, '0')}:${String(next(60)).padStart(2, '0')}:00Z`;
    lines.push(`k${next(keys)},g${next(groups)},${next(2001) - 1000},${(next(1_000_000) / 100).toFixed(2)},${next(2) ? 'true' : 'false'},${at}`);
  }
  return lines;
}

type Row = { grp: string; n: number; cents: bigint; flag: boolean; at: string };

/** The table and aggregates the files, in this order, must give, computed here: the last record of each key wins. */
function expectedOf(...files: string[]) {
  const records = files.flatMap((file) => parse(fs.readFileSync(file), { columns: true }) as Record<string, string>[]);
  const rows = new Map<string, Row>();
  for (const r of records)
    rows.set(r.id, { grp: r.grp, n: Number(r.n), cents: BigInt(r.amt.replace('.', '')), flag: r.flag === 'true', at: r.at.replace('T', ' ').replace('Z', '') });
  const byGrp = new Map<string, { rows: number; cents: bigint; low: number; latest: string }>();
  const byGrpFlag = new Map<string, { rows: number; total: number }>();
  for (const r of rows.values()) {
    const g = byGrp.get(r.grp) ?? { rows: 0, cents: 0n, low: Infinity, latest: '' };
    byGrp.set(r.grp, { rows: g.rows + 1, cents: g.cents + r.cents, low: Math.min(g.low, r.n), latest: r.at > g.latest ? r.at : g.latest });
    const key = `${r.grp}|${r.flag}`;
    const f = byGrpFlag.get(key) ?? { rows: 0, total: 0 };
    byGrpFlag.set(key, { rows: f.rows + 1, total: f.total + r.n });
  }
  const money = (cents: bigint) =>
    `${cents < 0n ? '-' : ''}${(cents < 0n ? -cents : cents) / 100n}.${String((cents < 0n ? -cents : cents) % 100n).padStart(2, '0')}`;
  return {
    rows: new Map([...rows].map(([id, r]) => [id, [r.grp, String(r.n), money(r.cents), r.flag, r.at]])),
    byGrp: new Map([...byGrp].map(([g, a]) => [g, [String(a.rows), money(a.cents), String(a.low), a.latest]])),
    byGrpFlag: new Map([...byGrpFlag].map(([k, a]) => [k, [String(a.rows), String(a.total)]])),
  };
}

/** Rows of a query keyed by their first column, against the expectation: the first differences (none = exact). */
function diff(actual: unknown[][], expected: Map<string, unknown[]>) {
  const seen = new Map(actual.map((r) => [String(r[0]), r.slice(1)]));
  const show = (xs: string[]) => xs.slice(0, 5);
  return {
    count: seen.size,
    missing: show([...expected.keys()].filter((k) => !seen.has(k))),
    extra: show([...seen.keys()].filter((k) => !expected.has(k))),
    differ: show(
      [...seen].filter(([k, v]) => expected.has(k) && JSON.stringify(v) !== JSON.stringify(expected.get(k))).map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
    ),
  };
}
const exactly = (expected: Map<string, unknown[]>) => ({ count: expected.size, missing: [], extra: [], differ: [] });

/** The pids of a process's children whose command line holds `command`. */
function childrenOf(pid: number, command: string): number[] {
  return childProcesses(pid)
    .filter((child) => child.argv.includes(command))
    .map((child) => child.pid);
}

/** Whether a part of this PostgreSQL application name is inside its transaction, waiting for a lock. */
async function blockedInTransaction(appName: string): Promise<boolean> {
  const { rows } = await t.pool.query(
    `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND xact_start IS NOT NULL AND wait_event_type = 'Lock' LIMIT 1`,
    [appName],
  );
  return rows.length > 0;
}

/**
 * SIGKILL every process of a part an ingest forked (`command`) inside a transaction: a SHARE lock
 * on the table it writes holds its next batch there; the kill lands, then the lock goes. The
 * table's rows at the kill, returned.
 */
async function killInTransaction(ingest: RunningCli, table: string, appName: string, command: string): Promise<{ victims: number; rows: number }> {
  const lock = await t.pool.connect();
  try {
    await lock.query('BEGIN');
    await lock.query(`LOCK TABLE ${table} IN SHARE MODE`);
    await waitFor(`${appName} blocked in its transaction`, () => blockedInTransaction(appName), 60_000, 20);
    const victims = childrenOf(ingest.child.pid!, command);
    for (const pid of victims) process.kill(pid, 'SIGKILL');
    return { victims: victims.length, rows: Number((await tuples(t, 'SELECT count(*) FROM bigds'))[0][0]) };
  } finally {
    await lock.query('ROLLBACK');
    lock.release();
  }
}

/** The table and both aggregates exactly the expectation. */
async function expectExact(expected: ReturnType<typeof expectedOf>): Promise<void> {
  const table = await tuples(t, `SELECT id, grp, n::text, amt::text, flag, (at AT TIME ZONE 'UTC')::text FROM bigds`);
  expect(diff(table, expected.rows)).toEqual(exactly(expected.rows));
  const byGrp = await tuples(t, `SELECT grp, "rows"::text, total::text, low::text, (latest AT TIME ZONE 'UTC')::text FROM big_by_grp`);
  expect(diff(byGrp, expected.byGrp)).toEqual(exactly(expected.byGrp));
  const byGrpFlag = await tuples(t, `SELECT grp || '|' || flag::text, "rows"::text, total::text FROM big_by_grp_flag`);
  expect(diff(byGrpFlag, expected.byGrpFlag)).toEqual(exactly(expected.byGrpFlag));
}

test('the rows consumers, then the followers, SIGKILLed inside their transactions mid-ingest: table and aggregates exactly the files', async () => {
  const spec = writeTmp(
    t,
    'bigds.yaml',
    [
      'name: bigds',
      'key: id',
      'columns: {id: text, grp: text, n: integer, amt: numeric, flag: boolean, at: timestamp}',
      'aggregates:',
      '  big_by_grp:',
      '    group_by: grp',
      '    measures: {rows: count, total: sum(amt), low: min(n), latest: max(at)}',
      '  big_by_grp_flag:',
      '    group_by: [grp, flag]',
      '    measures: {rows: count, total: sum(n)}',
    ].join('\n') + '\n',
  );
  const file1 = linesFile(t, 'bigds-1.csv', generated(30_000, 20_000, 50, 12345));
  const file2 = linesFile(t, 'bigds-2.csv', generated(20_000, 20_000, 50, 54321));
  await succeed(t, ['migrate', 'up', '--dataset', spec]);
  const ingest = (file: string) => startCli(t, ['ingest', '--file', file, '--dataset', spec, '--consumers', '2', '--rejects', `${file}.rejects`]);

  // the rows consumers, twice
  const first = ingest(file1);
  const expected1 = expectedOf(file1);
  const kills = [];
  for (let round = 0; round < 2; round++) {
    kills.push(await killInTransaction(first, 'bigds', 'dasy-bigds-consumer', 'dataset-consumer'));
    await sleep(500);
  }
  // both consumers killed each time, before the table was whole; the run went on with their restarts
  expect(kills.map((k) => [k.victims, k.rows < expected1.rows.size])).toEqual([
    [2, true],
    [2, true],
  ]);
  expect(await first.exited).toEqual({ code: 0, signal: null });
  await expectExact(expected1);

  // the followers (the relay and the recounts), in a recount's transaction, as a second file updates the first's rows
  const second = ingest(file2);
  const killed = await killInTransaction(second, 'big_by_grp', 'dasy-bigds.big_by_grp-consumer', 'dataset-aggregates');
  expect(killed.victims).toBe(1);
  expect(await second.exited).toEqual({ code: 0, signal: null });
  const expected = expectedOf(file1, file2);
  await expectExact(expected);

  // and the file again, to completion: exact still
  const { summary } = await succeed(t, ['ingest', '--file', file2, '--dataset', spec, '--rejects', path.join(t.tmp, 'bigds-again.rejects.csv')]);
  expect(timeless(summary)).toEqual({
    file: file2,
    dataset: spec,
    records: 20_000,
    accepted: 20_000,
    rejected: 0,
    rows: expected.rows.size,
    aggregates: { big_by_grp: expected.byGrp.size, big_by_grp_flag: expected.byGrpFlag.size },
  });
  await expectExact(expected);
  expect(await messagesIn(admin, `${t.namespace}.bigds.dlq`)).toBe(0);
  expect(await tuples(t, 'SELECT count(*)::int FROM dasy_dataset_outbox')).toEqual([[0]]);
});
