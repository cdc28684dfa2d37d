import { DasyConfig } from '../../libs/config';
import { Pool, withTransaction } from '../../libs/db';
import { setStoredOffsets } from '../../libs/db/offsets';
import { isKafkaUnavailable, isPostgresUnavailable } from '../../libs/errors/classify';
import { createKafka } from '../../libs/kafka/client';
import { groupId, topicName } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { outageNotice, retry } from '../../libs/resilience';
import { GROUPS } from '../components';
import { runPipeline } from '../pipeline';

export interface RebuildSummary {
  topic: string;
  /** offsets replayed, over every partition (compaction leaves fewer records than offsets) */
  offsets: number;
  products: number;
  names: number;
  seconds: number;
}

/**
 * `make rebuild`: `products` and `product_count` from `<ns>.products` alone. The topic is a
 * compacted changelog: it holds the latest record of every sku (and, for a while, the tombstones of
 * deleted ones), so applying it from the beginning gives the tables it was applied into, whatever
 * compaction removed. Before the pipeline's consumers start, one transaction empties the tables
 * and sets the products group's stored offsets to the log start: they begin there.
 */
export async function rebuild(options: { config: DasyConfig; logger: Logger; consumers: number }): Promise<RebuildSummary> {
  const { config, logger } = options;
  const topic = topicName(config.namespace, 'products');
  const log = logger.namespace('rebuild');
  let span = 0;
  const run = await runPipeline({
    config,
    logger,
    consumers: options.consumers,
    beforeConsumers: async (pool) => {
      const offsets = await retry(() => topicOffsets(config, log, topic), { isRetriable: isKafkaUnavailable });
      span = offsets.reduce((sum, o) => sum + Number(o.high - o.low), 0);
      await retry(() => emptyProductsState(pool, config.namespace, offsets), { isRetriable: isPostgresUnavailable, notice: outageNotice(log, 'PostgreSQL') });
    },
    work: async () => undefined,
  });
  return { topic, offsets: span, products: run.products, names: run.names, seconds: run.seconds };
}

/**
 * The namespace's products state, emptied in one transaction: `products`, `product_count`, its
 * outbox marks, and its consumed offsets set back to each partition's log start. A products
 * consumer still running elsewhere cannot commit a batch over it: its offset compare-and-set no
 * longer matches (the fence of DESIGN.md §6), and it seeks to the log start too.
 */
export async function emptyProductsState(pool: Pool, namespace: string, logStarts: { partition: number; low: bigint }[]): Promise<void> {
  const group = groupId(namespace, GROUPS.products);
  const topic = topicName(namespace, 'products');
  await withTransaction(pool, async (client) => {
    await setStoredOffsets(
      client,
      group,
      topic,
      logStarts.map((s) => ({ partition: s.partition, offset: s.low })),
    );
    await client.query('DELETE FROM product_count_outbox WHERE namespace = $1', [namespace]);
    await client.query('TRUNCATE products, product_count');
  });
}

/** Each partition's log start (low) and end (high). */
export async function topicOffsets(config: DasyConfig, logger: Logger, topic: string): Promise<{ partition: number; low: bigint; high: bigint }[]> {
  const admin = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-rebuild', logger }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
