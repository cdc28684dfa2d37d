import { DasyConfig } from '../../libs/config';
import { createPool, Pool } from '../../libs/db';
import { q } from '../../libs/dataset/sql';
import { DatasetSpec } from '../../libs/dataset/spec';
import { datasetGroups } from '../../libs/dataset/topics';
import { createKafka } from '../../libs/kafka/client';
import { Admin } from '../../libs/kafka/port';
import { createLogger, Logger } from '../../libs/log';
import { outageNotice, sleep } from '../../libs/resilience';
import { Supervisor } from '../../libs/runtime';
import { PIPELINE_RELAY_MAX_DELAY_MS, PIPELINE_RELAY_QUIET_MS } from '../pipeline/parts';
import { retryPostgres, untilGroupApplied } from '../pipeline/progress';
import { RunProgress, RunStage, trackRun } from '../pipeline/run-progress';
import { marksWaiting } from './outbox';
import { prepareDataset } from './prepare';

export interface DatasetRun<T> {
  result: T;
  /** rows of the dataset's table */
  rows: number;
  /** rows of each aggregate's table */
  aggregates: Record<string, number>;
  seconds: number;
}

/**
 * A declared dataset's whole pipeline, start to finish, as runPipeline is products' (apps/pipeline):
 * N rows consumers and one process of followers (the relay and the recounts, parts.ts) forked at
 * once while this process prepares the dataset (tables, topics), the work done (a file streamed),
 * then a wait until every stage is caught up: the rows consumers at the end offsets, the outbox
 * empty, each aggregate's consumer at its end offsets. Then the tables reflect everything sent.
 */
export async function runDatasetPipeline<T>(options: {
  config: DasyConfig;
  logger: Logger;
  /** the spec file (the forked parts read it too) */
  specFile: string;
  consumers: number;
  beforeConsumers?: (pool: Pool, spec: DatasetSpec) => Promise<void>;
  /** `onRead`: the producer's position in its file, for the progress line */
  work: (pipeline: { spec: DatasetSpec; caughtUp: () => Promise<void>; onRead: RunProgress['reading'] }) => Promise<T>;
}): Promise<DatasetRun<T>> {
  const { config, specFile } = options;
  const started = Date.now();
  const log = options.logger.namespace('ingest');
  const dataset = ['--dataset', specFile];
  const followers = ['dataset-aggregates', ...dataset, '--max-delay', String(PIPELINE_RELAY_MAX_DELAY_MS), '--quiet', String(PIPELINE_RELAY_QUIET_MS)];
  const parts = new Supervisor(
    [
      ...Array.from({ length: options.consumers }, () => ({ args: ['dataset-consumer', ...dataset], stdout: 'ignore' as const })),
      { args: followers, stdout: 'ignore' as const },
    ],
    { logger: log, preparesForThem: true },
  );
  const relay = parts.replicas[parts.replicas.length - 1];
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    namespace: config.namespace,
    // two for the progress checks, one for the VACUUM that may run meanwhile
    max: 3,
    applicationName: 'dasy-ingest',
    idleInTransactionMs: config.pgIdleInTransactionMs,
  });
  const admin = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-ingest', logger: log, persistent: true }).admin();
  let progress: RunProgress | undefined;
  try {
    const { spec } = await prepareDataset(config, log, specFile);
    if (options.beforeConsumers) await options.beforeConsumers(pool, spec);
    parts.ready();
    await admin.connect();
    progress = trackRun({ label: `ingest ${spec.name}`, admin, pool, stages: runStages(config.namespace, spec) });
    let vacuumed: Promise<void> = Promise.resolve();
    const onRowsApplied = () => {
      vacuumed = vacuumed.then(() => vacuumDataset(pool, spec, log));
      relay.send({ type: 'drain' });
    };
    const caughtUp = () => waitDatasetCaughtUp({ config, pool, admin, spec, logger: log, onRowsApplied, drain: () => relay.send({ type: 'drain' }) });
    const result = await options.work({ spec, caughtUp, onRead: progress.reading });
    progress.readDone();
    await caughtUp();
    await vacuumed;
    const counts = await countDataset(pool, spec);
    return { result, ...counts, seconds: Math.round((Date.now() - started) / 10) / 100 };
  } finally {
    progress?.stop();
    await parts.stop();
    await admin.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

/**
 * Until the dataset is caught up with what was in its topics when this began: the rows group at
 * the end offsets, the outbox empty (the relay told to drain meanwhile), each aggregate's group
 * at its end offsets. It only reads, polling; an outage meanwhile is waited for (said once).
 */
export async function waitDatasetCaughtUp(options: {
  config: DasyConfig;
  pool: Pool;
  admin: Admin;
  spec: DatasetSpec;
  logger?: Logger;
  /** once the rows consumers are at the end offsets */
  onRowsApplied?: () => void;
  /** at each check that finds groups still waiting in the outbox */
  drain?: () => void;
  pollMs?: number;
}): Promise<void> {
  const { pool, admin, spec } = options;
  const pollMs = options.pollMs ?? 50;
  const notice = outageNotice(options.logger ?? createLogger('dasy').namespace('ingest'), 'PostgreSQL');
  const pgRetry = <T>(read: () => Promise<T>) => retryPostgres(read, notice);
  const [rows, ...aggregates] = datasetGroups(options.config.namespace, spec);
  const untilApplied = ({ group, topic }: { group: string; topic: string }) => untilGroupApplied({ admin, pool, group, topic, pgRetry, pollMs });
  await untilApplied(rows);
  options.onRowsApplied?.();
  while (await pgRetry(() => marksWaiting(pool, spec))) {
    options.drain?.();
    await sleep(pollMs);
  }
  for (const group of aggregates) await untilApplied(group);
}

/**
 * Once the rows are in, and groups wait to be recounted: VACUUM sets the visibility map of the new
 * pages (a recount of counts alone then reads only the group index) and ANALYZE gives the planner
 * the table's statistics, as products' run does (apps/pipeline/completion.ts). One that cannot run
 * (not the table's owner) is no harm.
 */
async function vacuumDataset(pool: Pool, spec: DatasetSpec, logger: Logger): Promise<void> {
  try {
    if (spec.aggregates.length && (await marksWaiting(pool, spec))) await pool.query(`VACUUM (ANALYZE) ${q(spec.name)}`);
  } catch (err) {
    logger.debug(`VACUUM (ANALYZE) ${spec.name} failed`, { err: String(err) });
  }
}

/** The run's stages for its progress line: the rows, then each aggregate. */
function runStages(namespace: string, spec: DatasetSpec): RunStage[] {
  const [rows, ...aggregates] = datasetGroups(namespace, spec);
  return [{ name: 'rows', ...rows }, ...aggregates.map((g, i) => ({ name: spec.aggregates[i].name, ...g }))];
}

/** The dataset's rows and each aggregate's groups. */
export async function countDataset(pool: Pool, spec: DatasetSpec): Promise<{ rows: number; aggregates: Record<string, number> }> {
  const count = async (table: string) => Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${q(table)}`)).rows[0].n);
  const aggregates: Record<string, number> = {};
  for (const a of spec.aggregates) aggregates[a.name] = await count(a.name);
  return { rows: await count(spec.name), aggregates };
}
