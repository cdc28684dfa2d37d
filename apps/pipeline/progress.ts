import { DasyConfig } from '../../libs/config';
import { Pool } from '../../libs/db';
import { storedOffsets } from '../../libs/db/offsets';
import { isKafkaUnavailable, isPostgresUnavailable } from '../../libs/errors/classify';
import { Admin } from '../../libs/kafka/port';
import { endOffsets, groupId, topicName, totalLag } from '../../libs/kafka/topics';
import { createLogger, Logger } from '../../libs/log';
import { createProgress } from '../../libs/progress';
import { OutageNotice, outageNotice, retry, sleep } from '../../libs/resilience';
import { GROUPS } from '../components';

/** When each stage of the pipeline was caught up (ms since the epoch). */
export interface CaughtUp {
  productsAt: number;
  outboxAt: number;
  countsAt: number;
}

/**
 * Progress: until products, the outbox and product_count are caught up with what was in the
 * topics when it began (the products consumers at the end offsets the producer left, the outbox
 * empty, the product-count consumer at its end offsets). It only reads: PostgreSQL (stored
 * offsets, the outbox) and Kafka (end offsets), polling; PostgreSQL or Kafka going away meanwhile
 * is waited for (said once), like the pipeline does.
 */
export async function waitCaughtUp(options: {
  config: DasyConfig;
  pool: Pool;
  admin: Admin;
  progress?: ReturnType<typeof createProgress>;
  pollMs?: number;
  logger?: Logger;
  /** once the products consumers are at the end offsets */
  onProductsApplied?: () => void;
  /** at each check that finds names still waiting in the outbox */
  onOutboxWaiting?: () => void;
}): Promise<CaughtUp> {
  const { config, admin, pool } = options;
  const pollMs = options.pollMs ?? 50;
  const notice = outageNotice(options.logger ?? createLogger('dasy').namespace('ingest'), 'PostgreSQL');
  // every read through here: a lost connection is retried, not the end of the run
  const pgRetry = <T>(read: () => Promise<T>) => retryPostgres(read, notice);
  const untilApplied = (group: string, topic: string, what: string) =>
    untilGroupApplied({
      admin,
      pool,
      group,
      topic,
      pgRetry,
      pollMs,
      onLag: (lag) => options.progress?.update(`ingest: ${what} lag ${lag.toLocaleString('en-US')}`),
    });
  await untilApplied(groupId(config.namespace, GROUPS.products), topicName(config.namespace, 'products'), 'products');
  const productsAt = Date.now();
  options.onProductsApplied?.();
  while (await pgRetry(() => marksWaiting(pool, config.namespace))) {
    options.onOutboxWaiting?.();
    options.progress?.update(`ingest: names waiting in the outbox`);
    await sleep(pollMs);
  }
  const outboxAt = Date.now();
  await untilApplied(groupId(config.namespace, GROUPS.productCount), topicName(config.namespace, 'productCount'), 'product-count');
  return { productsAt, outboxAt, countsAt: Date.now() };
}

/**
 * Until a group's stored offsets reach the end offsets its topic had when this began (the stage
 * of a pipeline run is caught up): end offsets read once from Kafka, retried while it does not
 * answer; stored offsets polled through `pgRetry`.
 */
export async function untilGroupApplied(options: {
  admin: Admin;
  pool: Pool;
  group: string;
  topic: string;
  pgRetry: <T>(read: () => Promise<T>) => Promise<T>;
  pollMs: number;
  onLag?: (lag: bigint) => void;
}): Promise<void> {
  const { admin, pool, group, topic } = options;
  // the client says it once when Kafka does not answer
  const end = await retry(() => endOffsets(admin, topic), { isRetriable: isKafkaUnavailable });
  for (;;) {
    const lag = totalLag(end, await options.pgRetry(() => storedOffsets(pool, group, topic)));
    if (lag === 0n) return;
    options.onLag?.(lag);
    await sleep(options.pollMs);
  }
}

/** Whether names wait in the namespace's outbox: a probe of the (namespace, id) index, not a count of what may be millions of marks. */
async function marksWaiting(pool: Pool, namespace: string): Promise<boolean> {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM product_count_outbox WHERE namespace = $1 LIMIT 1', [namespace]);
  return rows.length > 0;
}

/** A read that waits for PostgreSQL through an outage or a restart (said once), as the parts do. */
export function retryPostgres<T>(read: () => Promise<T>, notice: OutageNotice): Promise<T> {
  return retry(read, { isRetriable: isPostgresUnavailable, notice });
}
