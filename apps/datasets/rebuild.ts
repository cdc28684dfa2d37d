import { DasyConfig } from '../../libs/config';
import { Pool, withTransaction } from '../../libs/db';
import { setStoredOffsets } from '../../libs/db/offsets';
import { list } from '../../libs/dataset/sql';
import { DatasetSpec } from '../../libs/dataset/spec';
import { rowsGroupApp, rowsTopic } from '../../libs/dataset/topics';
import { isKafkaUnavailable, isPostgresUnavailable } from '../../libs/errors/classify';
import { groupId } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { outageNotice, retry } from '../../libs/resilience';
import { topicOffsets } from '../rebuild';
import { runDatasetPipeline } from './pipeline';

export interface DatasetRebuildSummary {
  dataset: string;
  topic: string;
  /** offsets replayed, over every partition (compaction leaves fewer records than offsets) */
  offsets: number;
  rows: number;
  aggregates: Record<string, number>;
  seconds: number;
}

/**
 * `make rebuild DATASET=...`: a declared dataset's tables from its compacted topic alone, as
 * `make rebuild` does products'. Before the consumers start, one transaction empties the table,
 * its aggregates and its outbox marks, and sets the rows group's stored offsets to the log start.
 */
export async function rebuildDataset(options: { config: DasyConfig; logger: Logger; specFile: string; consumers: number }): Promise<DatasetRebuildSummary> {
  const { config, logger } = options;
  const log = logger.namespace('rebuild');
  let span = 0;
  let topic = '';
  const run = await runDatasetPipeline({
    config,
    logger,
    specFile: options.specFile,
    consumers: options.consumers,
    beforeConsumers: async (pool, spec) => {
      topic = rowsTopic(config.namespace, spec);
      const offsets = await retry(() => topicOffsets(config, log, topic), { isRetriable: isKafkaUnavailable });
      span = offsets.reduce((sum, o) => sum + Number(o.high - o.low), 0);
      await retry(() => emptyDatasetState(pool, config.namespace, spec, offsets), {
        isRetriable: isPostgresUnavailable,
        notice: outageNotice(log, 'PostgreSQL'),
      });
    },
    work: async () => undefined,
  });
  return { dataset: options.specFile, topic, offsets: span, rows: run.rows, aggregates: run.aggregates, seconds: run.seconds };
}

/** The dataset's state, emptied in one transaction (a rows consumer still running elsewhere is fenced, as products'). */
async function emptyDatasetState(pool: Pool, namespace: string, spec: DatasetSpec, logStarts: { partition: number; low: bigint }[]): Promise<void> {
  await withTransaction(pool, async (client) => {
    await setStoredOffsets(
      client,
      groupId(namespace, rowsGroupApp(spec)),
      rowsTopic(namespace, spec),
      logStarts.map((s) => ({ partition: s.partition, offset: s.low })),
    );
    await client.query('DELETE FROM dasy_dataset_outbox WHERE dataset = $1', [spec.name]);
    await client.query(`TRUNCATE ${list([spec.name, ...spec.aggregates.map((a) => a.name)])}`);
  });
}
