import { DasyConfig } from '../../libs/config';
import { createPool, ensureDatabase, Pool, quoteIdent } from '../../libs/db';
import { DATA_TABLES } from '../../libs/db/schema';
import { UnavailableError } from '../../libs/errors';
import { isKafkaUnavailable, isPostgresUnavailable } from '../../libs/errors/classify';
import type * as Migrate from '../../libs/db/migrate';
import { migrationsPending } from '../../libs/db/migrations-state';
import { deleteStoredOffsets } from '../../libs/db/offsets';
import { createKafka } from '../../libs/kafka/client';
import { deleteGroups } from '../../libs/kafka/groups';
import { deadLetterTopic, deleteTopics, ensureTopics, groupId } from '../../libs/kafka/topics';
import { Admin } from '../../libs/kafka/port';
import { dropDatasets, storedSpecs } from '../../libs/dataset/schema';
import { DatasetSpec } from '../../libs/dataset/spec';
import { datasetGroups, datasetTopics } from '../../libs/dataset/topics';
import { Logger } from '../../libs/log';
import { outageNotice, retry } from '../../libs/resilience';
import { CONSUMERS } from '../components';

// TypeORM takes a quarter of a second of CPU to load: only the processes that migrate load it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const migrations = (): typeof Migrate => require('../../libs/db/migrate') as typeof Migrate;

/** `make up` waits on this: PostgreSQL answers (database created if missing) and Kafka answers a metadata request. */
export async function stackReady(config: DasyConfig, logger: Logger, timeoutMs: number): Promise<void> {
  // while they start, anything may fail: keep asking until the deadline
  const always = () => true;
  await retry(() => ensureDatabase(config.databaseUrl, config.pgIdleInTransactionMs), {
    isRetriable: always,
    timeoutMs,
    what: 'PostgreSQL did not answer',
    initialMs: 100,
    maxMs: 2000,
  });
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-stack', logger: silent(logger) });
  await retry(
    async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (!cluster.controller && cluster.controller !== 0) throw new UnavailableError('no controller yet', undefined, 'kafka');
        // A cluster is ready once every bootstrap broker registered: topics created earlier
        // would get fewer replicas than the cluster is meant to give them.
        const want = new Set(config.kafkaBrokers).size;
        if (cluster.brokers.length < want) throw new UnavailableError(`${cluster.brokers.length} of ${want} brokers registered`, undefined, 'kafka');
        await admin.listTopics();
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    { isRetriable: always, timeoutMs, what: `Kafka did not answer at ${config.kafkaBrokers.join(',')}`, initialMs: 100, maxMs: 2000 },
  );
}

/** While waiting for a broker that is starting, connection errors are expected: keep them quiet. */
function silent(logger: Logger): Logger {
  const quiet = { ...logger, warn: () => undefined, error: () => undefined } as Logger;
  return { ...quiet, namespace: () => quiet };
}

/**
 * Topics of the namespace and migrations: what every app needs before it produces or consumes.
 * A PostgreSQL or Kafka that does not answer (yet) is waited for, with backoff, said once each;
 * anything else (a refused login, a failing migration) stops the program with one line.
 */
export async function prepare(config: DasyConfig, logger: Logger): Promise<void> {
  await retry(
    async () => {
      await ensureDatabase(config.databaseUrl, config.pgIdleInTransactionMs);
      // up to date (the usual case): TypeORM is not even loaded
      if (await migrationsPending(config.databaseUrl, config.namespace, config.pgIdleInTransactionMs))
        await migrations().runMigrations(config.databaseUrl, config.namespace, config.pgIdleInTransactionMs);
    },
    { isRetriable: isPostgresUnavailable, notice: outageNotice(logger, `PostgreSQL at ${serverOf(config.databaseUrl)}`) },
  );
  await prepareTopics(config, logger);
}

/** The namespace's topics: the missing ones created, a products topic without compaction switched to it. */
export async function prepareTopics(config: DasyConfig, logger: Logger): Promise<void> {
  await withAdmin(config, logger, (admin) => ensureTopics(admin, config.namespace));
}

/** Work with a Kafka admin client of its own, retried while Kafka does not answer (the client says it once, and again when it does). */
export async function withAdmin(config: DasyConfig, logger: Logger, work: (admin: Admin) => Promise<unknown>): Promise<void> {
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-prepare', logger });
  await retry(
    async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        await work(admin);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    { isRetriable: isKafkaUnavailable },
  );
}

function serverOf(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || 5432}`;
}

/**
 * `make reset`: the namespace's topics, consumer state (stored offsets, and the Kafka consumer
 * groups their mirror keeps) and table rows; services stay up.
 */
export async function reset(config: DasyConfig, logger: Logger): Promise<string> {
  const pool = createPool({ databaseUrl: config.databaseUrl, namespace: config.namespace, max: 1, idleInTransactionMs: config.pgIdleInTransactionMs });
  try {
    const datasets = (await tableExists(pool, 'dasy_datasets')) ? await storedSpecs(pool) : [];
    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-reset', logger });
    const admin = kafka.admin();
    await admin.connect();
    let topics: string[];
    let groups: Awaited<ReturnType<typeof deleteGroups>>;
    try {
      // groups first: a group whose topic is gone loses its offsets, and the broker may drop it by itself
      groups = await deleteGroups(admin, [
        ...CONSUMERS.map((c) => groupId(config.namespace, c.consumes.group)),
        ...datasets.flatMap((d) => datasetGroups(config.namespace, d).map((g) => g.group)),
      ]);
      topics = [...(await deleteTopics(admin, config.namespace)), ...(await deleteDatasetTopics(admin, config.namespace, datasets))];
    } finally {
      await admin.disconnect();
    }
    const offsets = (await tableExists(pool, 'dasy_consumer_offsets')) ? await deleteStoredOffsets(pool, `${config.namespace}.`) : 0;
    if (await tableExists(pool, 'dasy_dead_letters')) await pool.query(`DELETE FROM dasy_dead_letters WHERE starts_with(topic, $1)`, [`${config.namespace}.`]);
    if (await tableExists(pool, 'dasy_csv_files')) await pool.query(`DELETE FROM dasy_csv_files WHERE namespace = $1`, [config.namespace]);
    // Only tables that exist (reset also works before migrations ran), and only the namespace's
    // own schema's, named with it: other namespaces of the database keep theirs.
    const { rows } = await pool.query<{ t: string }>(
      `SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $2 AND c.relkind = 'r' AND c.relname = ANY($1)`,
      [DATA_TABLES, config.namespace],
    );
    const tables = rows.map((r) => r.t);
    if (tables.length) await pool.query(`TRUNCATE ${tables.map((t) => `${quoteIdent(config.namespace)}.${quoteIdent(t)}`).join(', ')}`);
    // a declared dataset goes whole (its tables and its spec): declared again, it may change freely
    if (datasets.length) await dropDatasets(pool, datasets);
    const busy = groups.busy.length
      ? `; kept consumer group(s) that still have members: ${groups.busy.join(', ')} (stop their consumers, then reset again)`
      : '';
    const dropped = datasets.length ? `, dropped ${datasets.length} dataset(s): ${datasets.map((d) => d.name).join(', ')}` : '';
    return `reset namespace ${config.namespace}: deleted ${topics.length} topic(s), ${groups.deleted.length} consumer group(s), ${offsets} stored offset(s), emptied ${tables.length} table(s)${dropped}${busy}`;
  } finally {
    await pool.end();
  }
}

async function tableExists(pool: Pool, table: string): Promise<boolean> {
  return (await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table])).rows[0].t !== null;
}

/** The datasets' topics that exist, with their dead-letter topics. */
async function deleteDatasetTopics(admin: Admin, namespace: string, datasets: DatasetSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const names = datasets.flatMap((d) => datasetTopics(namespace, d).flatMap((t) => [t.name, deadLetterTopic(t.name)]));
  const doomed = names.filter((t) => existing.has(t));
  if (doomed.length) await admin.deleteTopics({ topics: doomed, timeout: 30000 });
  return doomed;
}

export async function migrateUp(config: DasyConfig): Promise<string> {
  await ensureDatabase(config.databaseUrl, config.pgIdleInTransactionMs);
  const applied = await migrations().runMigrations(config.databaseUrl, config.namespace, config.pgIdleInTransactionMs);
  return applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'migrations: already up to date';
}

export async function migrateDown(config: DasyConfig): Promise<string> {
  const reverted = await migrations().revertMigrations(config.databaseUrl, config.namespace, config.pgIdleInTransactionMs);
  return reverted.length ? `reverted ${reverted.length} migration(s): ${reverted.join(', ')}` : 'migrations: nothing to revert';
}
