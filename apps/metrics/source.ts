import { Admin } from '../../libs/kafka/port';
import { Pool } from 'pg';
import { classify } from '../../libs/errors/classify';
import { errorMessage } from '../../libs/errors';
import { deadLetterTopic, endOffsets } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { CHECK_TIMEOUT_MS } from '../../libs/metrics/health';
import { waitingNames } from '../product-count-producer';
import type { DatasetSpec } from '../../libs/dataset/spec';
import { datasetGroups } from '../../libs/dataset/topics';

/** A consumer group of the namespace and the topic it consumes (full names, from apps/components.ts). */
export interface ConsumedGroup {
  group: string;
  topic: string;
}

/** What the exporter shows, read at most once per `maxAgeMs` however many scrape it. */
export interface ClusterSample {
  /** topic → partition → end offset; undefined when Kafka did not answer in time */
  ends?: Map<string, Map<number, bigint>>;
  /** undefined when PostgreSQL did not answer in time */
  db?: DbSample;
}

export interface DbSample {
  /** stored offsets: `group topic` → partition → next offset */
  stored: Map<string, Map<number, bigint>>;
  /** `group topic` → when it last committed a batch (seconds since the epoch) */
  lastCommit: Map<string, number>;
  deadLetters: { topic: string; messages: number; lastAt: number }[];
  /** rows per table: PostgreSQL's statistics (pg_stat_user_tables.n_live_tup), no scan */
  tables: { table: string; rows: number }[];
  files: { file: string; records: number; rejected: number }[];
  /** names waiting in the outbox (counted at most every `outboxEveryMs`); undefined before the first count */
  outbox?: number;
  /** the declared datasets' groups and tables when sampled */
  datasets: { groups: ConsumedGroup[]; tables: string[] };
}

export const groupKey = (group: string, topic: string) => `${group} ${topic}`;

/** The tables whose size the metrics show. */
export const COUNTED_TABLES = ['products', 'product_count'];

const STORED_OFFSETS = `SELECT group_id, topic, partition, next_offset, extract(epoch FROM updated_at)::float8 AS at
    FROM dasy_consumer_offsets WHERE group_id = ANY($1::text[])`;
const DEAD_LETTERS = `SELECT topic, messages, extract(epoch FROM last_at)::float8 AS at FROM dasy_dead_letters WHERE topic = ANY($1::text[])`;
// the name as a label, its quoted form to find it (a dataset's table may be named as a keyword)
const TABLE_ROWS = `SELECT t.name, s.n_live_tup FROM unnest($1::text[]) AS t(name) JOIN pg_stat_user_tables s ON s.relid = to_regclass(quote_ident(t.name))`;
const FILES = `SELECT file, records, rejected FROM dasy_csv_files WHERE namespace = $1`;

/**
 * The cluster's view for the metrics: end offsets from Kafka, the rest from PostgreSQL, each
 * bounded by a timeout (a service that does not answer makes its `up` gauge 0 and its series
 * absent, not a hanging scrape). Cheap by design: a few small queries on indexed bookkeeping
 * tables and PostgreSQL's statistics; the outbox, the only table read whole, at most every 10 s.
 */
export class ClusterSource {
  private last: { at: number; sample: Promise<ClusterSample>; settled: boolean } | undefined;
  private outbox: { at: number; names: number } | undefined;
  /** every declared dataset's groups and tables (dasy_datasets), read with each sample */
  private datasets: { groups: ConsumedGroup[]; tables: string[] } = { groups: [], tables: [] };
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      pool: Pool;
      admin: Admin;
      namespace: string;
      groups: ConsumedGroup[];
      logger: Logger;
      maxAgeMs?: number;
      outboxEveryMs?: number;
      timeoutMs?: number;
    },
  ) {
    this.log = deps.logger.namespace('metrics');
  }

  get groups(): ConsumedGroup[] {
    return [...this.deps.groups, ...this.datasets.groups];
  }

  /** The latest sample: scrapes within `maxAgeMs` of it, or while it is being read, share it. */
  sample(): Promise<ClusterSample> {
    const now = Date.now();
    if (this.last && (!this.last.settled || now - this.last.at < (this.deps.maxAgeMs ?? 1000))) return this.last.sample;
    const last = {
      at: now,
      settled: false,
      sample: Promise.all([this.bounded('Kafka', this.kafkaRead), this.bounded('PostgreSQL', this.dbRead)]).then(([ends, db]) => {
        // the datasets as read with this sample: the groups a scrape shows are the ones sampled
        if (db) this.datasets = db.datasets;
        last.settled = true;
        return { ends, db };
      }),
    };
    this.last = last;
    return last.sample;
  }

  // A read that outlives its scrape's timeout is not started again while it runs (no pile-up of
  // requests while a service is down): the next scrapes wait on it, each for its timeout.
  private readonly kafkaRead = oneAtATime(() => this.kafka());
  private readonly dbRead = oneAtATime(() => this.db());

  private async bounded<T>(what: string, read: () => Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.deps.timeoutMs ?? CHECK_TIMEOUT_MS;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs)));
    try {
      return await Promise.race([read(), late]);
    } catch (err) {
      this.log.debug(`${what} did not answer for the metrics: ${errorMessage(err)}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private async kafka(): Promise<Map<string, Map<number, bigint>>> {
    const { admin } = this.deps;
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    // every topic of the namespace that exists: a dataset declared since the last sample included
    const topics = [...new Set(this.groups.map((g) => g.topic))].filter((t) => existing.has(t));
    return new Map(await Promise.all(topics.map(async (t) => [t, await endOffsets(admin, t)] as const)));
  }

  private async db(): Promise<DbSample> {
    const { pool, namespace } = this.deps;
    const datasets = await this.readDatasets();
    const groups = [...this.deps.groups, ...datasets.groups];
    const [stored, dead, tables, files, outbox] = await Promise.all([
      orEmpty(
        pool.query<{ group_id: string; topic: string; partition: number; next_offset: string; at: number }>(STORED_OFFSETS, [groups.map((g) => g.group)]),
      ),
      orEmpty(pool.query<{ topic: string; messages: string; at: number }>(DEAD_LETTERS, [groups.map((g) => deadLetterTopic(g.topic))])),
      pool.query<{ name: string; n_live_tup: string }>(TABLE_ROWS, [[...COUNTED_TABLES, ...datasets.tables]]).then((r) => r.rows),
      orEmpty(pool.query<{ file: string; records: string; rejected: string }>(FILES, [namespace])),
      this.outboxNames(),
    ]);
    const sample: DbSample = {
      stored: new Map(),
      lastCommit: new Map(),
      deadLetters: dead.map((r) => ({ topic: r.topic, messages: Number(r.messages), lastAt: r.at })),
      tables: tables.map((r) => ({ table: r.name, rows: Number(r.n_live_tup) })),
      files: files.map((r) => ({ file: r.file, records: Number(r.records), rejected: Number(r.rejected) })),
      outbox,
      datasets,
    };
    for (const r of stored) {
      const key = groupKey(r.group_id, r.topic);
      let partitions = sample.stored.get(key);
      if (!partitions) sample.stored.set(key, (partitions = new Map<number, bigint>()));
      partitions.set(r.partition, BigInt(r.next_offset));
      sample.lastCommit.set(key, Math.max(sample.lastCommit.get(key) ?? 0, r.at));
    }
    return sample;
  }

  private async readDatasets(): Promise<{ groups: ConsumedGroup[]; tables: string[] }> {
    const specs = await orEmpty(this.deps.pool.query<{ spec: DatasetSpec }>('SELECT spec FROM dasy_datasets ORDER BY name'));
    return {
      groups: specs.flatMap((r) => datasetGroups(this.deps.namespace, r.spec)),
      tables: specs.flatMap((r) => [r.spec.name, ...r.spec.aggregates.map((a) => a.name)]),
    };
  }

  private async outboxNames(): Promise<number | undefined> {
    if (this.outbox && Date.now() - this.outbox.at < (this.deps.outboxEveryMs ?? 10_000)) return this.outbox.names;
    try {
      this.outbox = { at: Date.now(), names: await waitingNames(this.deps.pool, this.deps.namespace) };
    } catch (err) {
      if (classify(err) !== 'schema') throw err;
      return undefined;
    }
    return this.outbox.names;
  }
}

/** fn, but while a call runs, calls get its promise instead of starting another. */
function oneAtATime<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    if (running) return running;
    const done = () => (running = undefined);
    const call = fn();
    running = call;
    call.then(done, done);
    return call;
  };
}

/** A table not created yet (migrations not run) has no rows to show. */
async function orEmpty<R extends object>(query: Promise<{ rows: R[] }>): Promise<R[]> {
  try {
    return (await query).rows;
  } catch (err) {
    if (classify(err) === 'schema') return [];
    throw err;
  }
}
