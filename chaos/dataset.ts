import * as fs from 'fs';
import * as path from 'path';
import { Pool } from 'pg';
import { rowsPart } from '../apps/datasets/parts';
import { createPool } from '../libs/db';
import { storedOffsets } from '../libs/db/offsets';
import { AggregateSpec, DatasetSpec, parseDatasetSpec } from '../libs/dataset/spec';
import { aggregateTopic, datasetGroups, rowsGroupApp, rowsTopic } from '../libs/dataset/topics';
import { createKafka } from '../libs/kafka/client';
import { Admin } from '../libs/kafka/port';
import { deadLetterTopic, endOffsets, groupId, totalLag } from '../libs/kafka/topics';
import { Logger } from '../libs/log';
import { compareRows, compareWithExpected, compareWithGroupBy, Difference, outboxMarks } from './dataset-check';
import { aggregateRows, applyRecords, deleteKeys, ExpectedRows, readCsvObjects } from './dataset-expect';
import { CHAOS_DATASET_YAML, writeEventsFile, writeKeysFile, writeUpdatesFile } from './dataset-files';
import { appliedShare, DatasetRole, Planned, Reading, rolesPlan } from './schedule';
import type { IngestRun, Result, World } from './world';

/** What the scenario borrows from the chaos harness (index.ts; passed in: no import cycle). */
export interface DatasetKit {
  startDasy(world: World, args: string[], logName: string, env?: NodeJS.ProcessEnv): IngestRun;
  /** SIGKILLs of `plan` in the run's parts (found by their command line), each once `progress` reaches its point */
  killAtProgress(world: World, run: IngestRun, plan: Planned<DatasetRole>[], progress: () => Promise<Reading>): Promise<string[]>;
  logSummary(file: string): string[];
  dropNamespace(world: World): Promise<void>;
  quietLogger(): Logger;
}

/**
 * The rows consumers fetch this much per partition: by default (2 MiB) the pipeline applies a
 * 40,000-record file in a second in a few fetches, its progress jumping from 0 to 100% between
 * two readings, and kills due at 5% to 60% could not land. At 16 KiB a fetch is one batch of the
 * producer's (4,000 messages over 6 partitions): the progress moves in steps of about 2%.
 */
const ROWS_FETCH_BYTES = 16 * 1024;

/** The kills of each step: rows consumers and the aggregates process (the relay and the recounts). */
const KILLS = { first: { consumer: 4, aggregates: 3 }, later: { consumer: 2, aggregates: 2 } };

/**
 * `dataset`: a declared dataset (dataset-files.ts: a text key, numeric, timestamp, optional
 * columns, two aggregates, one grouped by two columns) under SIGKILLs. `ingest --dataset` of a
 * file, `ingest --dataset` of a second file that moves rows between groups and adds keys, and
 * `delete --dataset` of a keys file, each while its `dataset-consumer` and `dataset-aggregates`
 * processes are SIGKILLed at points of the step's records applied (schedule.ts), and restarted by
 * the ingest. After each step: the table exactly the files' rows (computed here, dataset-expect.ts),
 * each aggregate exactly a GROUP BY of the table and the groups computed here, no marks in
 * dasy_dataset_outbox, every group at its topic's end, no dead letters.
 */
export async function datasetUnderKills(world: World, options: { rows: number; seed: number }, kit: DatasetKit): Promise<Result> {
  const specFile = path.join(world.tmp, 'chaos_events.yaml');
  fs.writeFileSync(specFile, CHAOS_DATASET_YAML);
  const spec = parseDatasetSpec(CHAOS_DATASET_YAML, specFile);
  const result: Result = { scenario: world.scenario, announced: [], faults: [], exact: true, checks: [], problems: [], seconds: 0 };
  const fail = (problem: string) => {
    result.problems.push(problem);
    result.exact = false;
  };
  const pool = createPool({
    databaseUrl: world.config.databaseUrl,
    namespace: world.config.namespace,
    max: 1,
    idleInTransactionMs: world.config.pgIdleInTransactionMs,
  });
  const admin = createKafka({ brokers: world.config.kafkaBrokers, clientId: 'dasy-chaos', logger: kit.quietLogger() }).admin();
  /** One step under kills: run `args`, kill as its `records` get applied, then check the tables against `expected`. */
  const step = async (label: string, args: string[], records: number, expected: ExpectedRows, kills: { consumer: number; aggregates: number }) => {
    world.say(`${label} (namespace ${world.config.namespace}) while SIGKILLing its dataset-consumer and dataset-aggregates processes`);
    const plan = rolesPlan<DatasetRole>(
      [
        ['dataset-consumer', kills.consumer],
        ['dataset-aggregates', kills.aggregates],
      ],
      Math.random,
    );
    result.announced.push(...plan.map((p) => `SIGKILL ${p.kind}`));
    const start = await rowsApplied(pool, world, spec).catch(() => 0n);
    const run = kit.startDasy(world, [...args, '--dataset', specFile, '--consumers', '3'], `${args[0]}-${result.checks.length}.log`, {
      DASY_CONSUMER_TUNING: `${rowsPart(spec).name}.maxBytesPerPartition=${ROWS_FETCH_BYTES}`,
    });
    try {
      result.faults.push(...(await kit.killAtProgress(world, run, plan, datasetProgress(pool, admin, world, spec, { records, start }))));
      const summary = await run.done;
      world.say(`${args[0]} finished: ${JSON.stringify(summary)}`);
      const v = await verifyDataset(pool, admin, world, spec, expected, summary, records);
      result.checks.push(`${label}:`, ...v.checks.map((c) => `  ${c}`), ...kit.logSummary(run.logFile).map((c) => `  ${c}`));
      for (const p of v.problems) fail(`${label}: ${p}`);
    } catch (err) {
      fail(`${label}: ${(err as Error).message}`);
    }
  };
  try {
    await admin.connect();
    const rows = options.rows;
    const events = path.join(world.tmp, 'events.csv');
    writeEventsFile(events, rows, options.seed);
    const afterEvents = applyRecords(spec, new Map(), readCsvObjects(events));
    await step(
      `ingest of ${rows.toLocaleString('en-US')} records`,
      ['ingest', '--file', events, '--rejects', path.join(world.tmp, 'rejects.csv')],
      rows,
      afterEvents,
      KILLS.first,
    );

    const updates = path.join(world.tmp, 'updates.csv');
    const updateRows = Math.round(rows / 2);
    writeUpdatesFile(updates, [...afterEvents.keys()], updateRows, options.seed + 1);
    const afterUpdates = applyRecords(spec, afterEvents, readCsvObjects(updates));
    await step(
      `ingest of ${updateRows.toLocaleString('en-US')} records moving rows between groups`,
      ['ingest', '--file', updates, '--rejects', path.join(world.tmp, 'updates-rejects.csv')],
      updateRows,
      afterUpdates,
      KILLS.later,
    );

    const keysFile = path.join(world.tmp, 'delete.csv');
    const keyRecords = writeKeysFile(keysFile, [...afterUpdates.keys()], 2, options.seed + 2);
    const afterDelete = deleteKeys(spec, afterUpdates, readCsvObjects(keysFile));
    await step(
      `delete of ${(afterUpdates.size - afterDelete.size).toLocaleString('en-US')} keys`,
      ['delete', '--file', keysFile, '--rejects', path.join(world.tmp, 'delete-rejects.csv')],
      keyRecords,
      afterDelete,
      KILLS.later,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await kit.dropNamespace(world);
  }
  return result;
}

/** The rows group's stored offsets, summed: the messages applied to the table so far. */
async function rowsApplied(pool: Pool, world: World, spec: DatasetSpec): Promise<bigint> {
  const stored = await storedOffsets(pool, groupId(world.config.namespace, rowsGroupApp(spec)), rowsTopic(world.config.namespace, spec));
  return [...stored.values()].reduce((a, b) => a + b, 0n);
}

/** The sum of a topic's end offsets. */
async function topicEnd(admin: Admin, topic: string): Promise<bigint> {
  return [...(await endOffsets(admin, topic)).values()].reduce((a, b) => a + b, 0n);
}

/**
 * The step's progress: the share of its `records` applied to the table (counted from `start`),
 * and the work it has left: records, marks in the outbox, recounts not yet applied. Before the
 * tables and topics exist (the ingest makes them), the last reading.
 */
function datasetProgress(pool: Pool, admin: Admin, world: World, spec: DatasetSpec, run: { records: number; start: bigint }): () => Promise<Reading> {
  let last: Reading = { share: 0, left: { products: true, marks: false, recounts: false } };
  const [, ...aggregateGroups] = datasetGroups(world.config.namespace, spec);
  return async () => {
    try {
      const share = appliedShare(await rowsApplied(pool, world, spec), run, false);
      let recounts = false;
      for (const { group, topic } of aggregateGroups) {
        const stored = [...(await storedOffsets(pool, group, topic)).values()].reduce((a, b) => a + b, 0n);
        recounts ||= (await topicEnd(admin, topic)) > stored;
      }
      last = { share, left: { products: share < 1, marks: (await outboxMarks(pool, spec)) > 0, recounts } };
    } catch {
      // the database, tables or topics not created yet (the run makes them): the last reading
    }
    return last;
  };
}

/** After a step: the tables against the expectation and each other, the summary, the outbox, the groups' lag, the dead letters. */
async function verifyDataset(
  pool: Pool,
  admin: Admin,
  world: World,
  spec: DatasetSpec,
  expected: ExpectedRows,
  summary: Record<string, unknown>,
  records: number,
): Promise<{ checks: string[]; problems: string[] }> {
  const checks: string[] = [];
  const problems: string[] = [];
  const report = (d: Difference) => {
    if (d.count) problems.push(`${d.what}: ${d.count} row(s) differ; first: ${d.first.join('; ')}`);
  };
  const rows = await compareRows(pool, spec, expected);
  report(rows);
  const groups: string[] = [];
  for (const a of spec.aggregates) {
    const byGroupBy = await compareWithGroupBy(pool, spec, a);
    const byExpected = await compareWithExpected(pool, spec, a, expected);
    report(byGroupBy);
    report(byExpected);
    groups.push(
      `${a.name} ${expectedGroups(spec, a, expected)} groups: ${byGroupBy.count + byExpected.count === 0 ? 'exactly' : 'NOT'} its GROUP BY and the expectation`,
    );
  }
  checks.push(`${spec.name} ${expected.size.toLocaleString('en-US')} rows: ${rows.count === 0 ? 'exactly' : 'NOT'} the files' rows; ${groups.join('; ')}`);
  const aggregates = summary.aggregates as Record<string, number> | undefined;
  if (summary.accepted !== records || summary.rejected !== 0)
    problems.push(`summary: ${String(summary.accepted)} accepted, ${String(summary.rejected)} rejected; expected ${records} and 0`);
  if (summary.rows !== expected.size) problems.push(`summary: ${String(summary.rows)} rows, expected ${expected.size}`);
  for (const a of spec.aggregates)
    if (aggregates?.[a.name] !== expectedGroups(spec, a, expected))
      problems.push(`summary: ${a.name} ${String(aggregates?.[a.name])} groups, expected ${expectedGroups(spec, a, expected)}`);
  const marks = await outboxMarks(pool, spec);
  let lag = 0n;
  let dead = 0n;
  for (const { group, topic } of datasetGroups(world.config.namespace, spec)) {
    lag += totalLag(await endOffsets(admin, topic), await storedOffsets(pool, group, topic));
    dead += await topicEnd(admin, deadLetterTopic(topic));
  }
  checks.push(
    `outbox ${marks}, lag ${lag}, dead letters ${dead} (${[rowsTopic(world.config.namespace, spec), ...spec.aggregates.map((a) => aggregateTopic(world.config.namespace, spec, a))].join(', ')})`,
  );
  if (marks !== 0) problems.push(`${marks} mark(s) left in dasy_dataset_outbox`);
  if (lag !== 0n) problems.push(`consumer groups ${lag} messages behind`);
  if (dead !== 0n) problems.push(`${dead} dead letter(s)`);
  return { checks, problems };
}

function expectedGroups(spec: DatasetSpec, aggregate: AggregateSpec, expected: ExpectedRows): number {
  return aggregateRows(spec, aggregate, expected).size;
}
