/**
 * The bench's comparison with Kafka Connect (issue #12): the products file as records Connect's
 * JsonConverter reads, in a topic of as many partitions as dasy's products topic, drained by a
 * standalone Connect worker running the Debezium JDBC sink in upsert mode with 2 tasks (as dasy
 * runs 2 products-consumers) into a table with the primary key and nothing else.
 */

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Admin } from '../../libs/kafka/port';
import { quoteIdent } from '../../libs/db';
import { createKafka } from '../../libs/kafka/client';
import { endOffsets } from '../../libs/kafka/topics';
import { Context, namespace, say } from '../context';
import { round } from '../stats';
import { checkTable, TableCheck } from './check';
import { connectLibsReady, connectVersions, ConnectVersions } from './jars';
import { Expected, produceConnectRecords } from './records';
import { Timed, timeConnect } from './timing';
import { PARTITIONS, TASKS, writeConnectConfig } from './worker';

export type { TableCheck } from './check';

/** One run: Timed's figures, the rates they make, and the table's check. */
export interface ConnectRun extends Timed {
  records: number;
  recordsPerSecond: number;
  perTask: number;
  perPartition: number;
  check: TableCheck;
}

export interface ConnectComparison {
  versions: ConnectVersions;
  produceSeconds: number;
  runs: ConnectRun[];
}

/**
 * `runs` Connect sink runs over the records of `file`, produced once into a topic of their own
 * (untimed). Undefined, with one line said, when Connect's jars or Java are not to be had.
 */
export async function connectComparison(ctx: Context, file: string, runs: number): Promise<ConnectComparison | undefined> {
  if (!connectLibsReady()) return undefined;
  const topic = `${namespace(ctx)}.connect-products`;
  const kafka = createKafka({ brokers: ctx.config.kafkaBrokers, clientId: 'dasy-bench', logger: ctx.bench.logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    say(`stages: producing ${path.basename(file)} as Kafka Connect JSON records (not timed)`);
    const started = process.hrtime.bigint();
    const expected = await produceConnectRecords(kafka, admin, topic, file);
    const produceSeconds = round(Number(process.hrtime.bigint() - started) / 1e9, 2);
    const done: ConnectRun[] = [];
    for (let i = 0; i < runs; i++) {
      say(`stages: Kafka Connect JDBC sink (${TASKS} tasks) draining ${expected.records.toLocaleString('en-US')} records, run ${i + 1}/${runs}`);
      done.push(await connectSinkRun(ctx, admin, topic, expected));
    }
    return { versions: connectVersions(), produceSeconds, runs: done };
  } finally {
    await admin.deleteTopics({ topics: [topic], timeout: 30000 }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** One standalone Connect worker from JVM start to caught up, its table checked, then everything it made removed. */
export async function connectSinkRun(ctx: Context, admin: Admin, topic: string, expected: Expected): Promise<ConnectRun> {
  // the schema doubles as the connector's name: the sink's consumer group (connect-<name>) is new each run
  const schema = namespace(ctx)
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dasy-connect-'));
  await ctx.pool.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  try {
    await ctx.pool.query(`CREATE TABLE ${quoteIdent(schema)}.products (sku text PRIMARY KEY, name text NOT NULL, description text)`);
    writeConnectConfig(dir, ctx.bench.databaseUrl, ctx.config.kafkaBrokers, topic, schema);
    const end = await endOffsets(admin, topic);
    const timed = await timeConnect(ctx, admin, dir, { topic, group: `connect-${schema}`, end });
    const check = await checkTable(ctx, schema, expected);
    const records = Number([...end.values()].reduce((a, b) => a + b, 0n));
    const recordsPerSecond = records / timed.seconds;
    return {
      records,
      ...timed,
      recordsPerSecond: round(recordsPerSecond),
      perTask: round(recordsPerSecond / TASKS),
      perPartition: round(recordsPerSecond / PARTITIONS),
      check,
    };
  } finally {
    await ctx.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
