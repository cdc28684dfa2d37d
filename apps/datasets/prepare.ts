import { DasyConfig } from '../../libs/config';
import { createPool } from '../../libs/db';
import { ensureDatasetTables, TablesOutcome } from '../../libs/dataset/schema';
import { DatasetSpec, loadDatasetSpec } from '../../libs/dataset/spec';
import { datasetTopics } from '../../libs/dataset/topics';
import { isKafkaUnavailable, isPostgresUnavailable } from '../../libs/errors/classify';
import { createKafka } from '../../libs/kafka/client';
import { ensureNamedTopics } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { outageNotice, retry } from '../../libs/resilience';
import { prepare } from '../stack';

/**
 * A declared dataset made ready to run: the namespace prepared (migrations, its own topics), the
 * spec read and checked, the dataset's tables made or evolved (libs/dataset/schema.ts) and its
 * topics created. Idempotent: every part of a run may call it.
 */
export async function prepareDataset(config: DasyConfig, logger: Logger, file: string): Promise<{ spec: DatasetSpec; tables: TablesOutcome }> {
  const spec = loadDatasetSpec(file);
  await prepare(config, logger);
  const pool = createPool({ databaseUrl: config.databaseUrl, namespace: config.namespace, max: 1, idleInTransactionMs: config.pgIdleInTransactionMs });
  try {
    const tables = await retry(() => ensureDatasetTables(pool, spec, file), {
      isRetriable: isPostgresUnavailable,
      notice: outageNotice(logger, 'PostgreSQL'),
    });
    await ensureDatasetTopics(config, logger, spec);
    return { spec, tables };
  } finally {
    await pool.end().catch(() => undefined);
  }
}

async function ensureDatasetTopics(config: DasyConfig, logger: Logger, spec: DatasetSpec): Promise<void> {
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-prepare', logger });
  await retry(
    async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        await ensureNamedTopics(admin, datasetTopics(config.namespace, spec));
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    { isRetriable: isKafkaUnavailable },
  );
}

/** What prepareDataset did to the tables, in one line. */
export function describeTables(spec: DatasetSpec, tables: TablesOutcome): string {
  if (tables.created) return `dataset ${spec.name}: created table ${spec.name}${spec.aggregates.map((a) => `, aggregate ${a.name}`).join('')}`;
  const added = [...tables.addedColumns.map((c) => `column ${c}`), ...tables.addedAggregates.map((a) => `aggregate ${a} (filled from the table)`)];
  return `dataset ${spec.name}: ${added.length ? `added ${added.join(', ')}` : 'tables up to date'}`;
}
