import { Pool } from 'pg';
import { DasyConfig } from '../../libs/config';
import { topicName } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { Outbox } from '../../libs/outbox/outbox';
import { createOutboxRelay, OutboxRelay } from '../../libs/outbox/relay';
import { OUTBOX_CHANNEL } from '../products-consumer';
import { RELAY_DEFAULTS } from './defaults';
export { RELAY_DEFAULTS } from './defaults';

/** The names waiting to be recounted: product_count_outbox, read by the relay (libs/outbox). */
export function productCountOutbox(namespace: string): Outbox {
  const topic = topicName(namespace, 'productCount');
  return {
    name: 'product-count-producer',
    channel: OUTBOX_CHANNEL,
    scope: namespace,
    newestSql: 'SELECT id FROM product_count_outbox WHERE namespace = $1 ORDER BY id DESC LIMIT 1',
    takeSql: `SELECT coalesce(array_agg(id), '{}') AS ids FROM product_count_outbox WHERE namespace = $1`,
    cursorSql: 'SELECT DISTINCT unnest(names) AS key, NULL AS route FROM product_count_outbox WHERE namespace = $1',
    // exactly the marks taken (through the primary key's index on (namespace, id))
    deleteSql: 'DELETE FROM product_count_outbox WHERE namespace = $1 AND id = ANY($2::bigint[])',
    topics: [topic],
    topicOf: () => topic,
  };
}

/** Names waiting in the namespace's outbox (a name marked by several batches counts each time). */
export async function waitingNames(db: Pool, namespace: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT coalesce(sum(cardinality(names)), 0) AS n FROM product_count_outbox WHERE namespace = $1', [
    namespace,
  ]);
  return Number(rows[0].n);
}

/** ProductCountRelay: moves the names to recount to `<ns>.product-count` (key = name), as every outbox's relay (libs/outbox/relay.ts). */
export function createProductCountRelay(options: {
  config: DasyConfig;
  pool: Pool;
  logger: Logger;
  page?: number;
  pollMs?: number;
  quietMs?: number;
  maxDelayMs?: number;
  /** test hook: runs after the sends were acknowledged, before the marks are deleted */
  afterSend?: (sent: number) => Promise<void>;
}): OutboxRelay {
  const { config } = options;
  return createOutboxRelay({
    outbox: productCountOutbox(config.namespace),
    brokers: config.kafkaBrokers,
    databaseUrl: config.databaseUrl,
    pool: options.pool,
    logger: options.logger,
    timing: {
      page: options.page ?? RELAY_DEFAULTS.page,
      pollMs: options.pollMs ?? RELAY_DEFAULTS.pollMs,
      quietMs: options.quietMs ?? RELAY_DEFAULTS.quietMs,
      maxDelayMs: options.maxDelayMs ?? RELAY_DEFAULTS.maxDelayMs,
    },
    afterSend: options.afterSend,
  });
}
