import { DasyConfig } from '../../libs/config';
import { createPool } from '../../libs/db';
import { ensureDatasetTables, TablesOutcome } from '../../libs/dataset/schema';
import { DatasetSpec, loadDatasetSpec } from '../../libs/dataset/spec';
import { datasetTopics } from '../../libs/dataset/topics';
import { isPostgresUnavailable } from '../../libs/errors/classify';
import { ensureNamedTopics } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { outageNotice, retry } from '../../libs/resilience';
import { prepare, withAdmin } from '../stack';

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
    await withAdmin(config, logger, (admin) => ensureNamedTopics(admin, datasetTopics(config.namespace, spec)));
    return { spec, tables };
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** What prepareDataset did to the tables, in one line. */
export function describeTables(spec: DatasetSpec, tables: TablesOutcome): string {
  if (tables.created) return `dataset ${spec.name}: created table ${spec.name}${spec.aggregates.map((a) => `, aggregate ${a.name}`).join('')}`;
  const added = [...tables.addedColumns.map((c) => `column ${c}`), ...tables.addedAggregates.map((a) => `aggregate ${a} (filled from the table)`)];
  return `dataset ${spec.name}: ${added.length ? `added ${added.join(', ')}` : 'tables up to date'}`;
}
