import * as fs from 'fs';
import { Admin } from '../../libs/kafka/port';
import { checkProductsHeader } from '../../libs/csv/reader';
import { DasyConfig } from '../../libs/config';
import { createPool, Pool } from '../../libs/db';
import { errorMessage } from '../../libs/errors';
import { storedOffsets } from '../../libs/db/offsets';
import { isKafkaUnavailable, isPostgresUnavailable } from '../../libs/errors/classify';
import { createKafka } from '../../libs/kafka/client';
import { endOffsets, groupId, topicName, TOPICS, totalLag } from '../../libs/kafka/topics';
import { createLogger, Logger } from '../../libs/log';
import { createProgress } from '../../libs/progress';
import { Replica, Supervisor } from '../../libs/runtime';
import { OutageNotice, outageNotice, retry, sleep } from '../../libs/resilience';
import { produceProducts } from '../products-producer';
import { prepare } from '../stack';
import { deleteAbsentSkus } from '../sync';
import { GROUPS, productCountConsumer, productsConsumer } from '../components';

export interface IngestSummary {
  file: string;
  records: number;
  accepted: number;
  rejected: number;
  /** with sync: the skus of `products` the file did not contain, deleted */
  deleted?: number;
  products: number;
  names: number;
  seconds: number;
}

/** How long, at most, the relay of an ingest lets marks wait for more marks of its name. */
export const INGEST_RELAY_MAX_DELAY_MS = 60_000;
export const INGEST_RELAY_QUIET_MS = 3_000;

/**
 * `make ingest`: the whole pipeline, start to finish (runPipeline), streaming the file. With
 * `sync`, the file is the whole catalogue: once its records are applied, every sku of `products`
 * that it does not contain is deleted through tombstones (apps/sync), and those are applied too.
 */
export async function ingest(options: {
  config: DasyConfig;
  logger: Logger;
  file: string;
  rejectsFile?: string;
  consumers: number;
  sync?: boolean;
  /** where to write the time of each phase (JSON), for `dasy bench` */
  phasesFile?: string;
}): Promise<IngestSummary> {
  const { config, logger, file } = options;
  await checkProductsHeader(file);
  const run = await runPipeline({
    config,
    logger,
    consumers: options.consumers,
    phasesFile: options.phasesFile,
    work: async ({ caughtUp }) => {
      const produced = await produceProducts({ config, logger, file, rejectsFile: options.rejectsFile });
      const deleted = options.sync ? await deleteAbsentSkus({ config, logger, file, caughtUp }) : undefined;
      return { produced, deleted };
    },
  });
  const { produced, deleted } = run.result;
  return {
    file,
    records: produced.records,
    accepted: produced.accepted,
    rejected: produced.rejected,
    ...(deleted === undefined ? {} : { deleted }),
    products: run.products,
    names: run.names,
    seconds: run.seconds,
  };
}

/** What a run of the whole pipeline does besides running it (ingest, delete, rebuild). */
export interface PipelineWork<T> {
  /** after prepare, before the pipeline's consumers start (rebuild empties the tables here) */
  beforeConsumers?: (pool: Pool) => Promise<void>;
  /**
   * Sends into `<ns>.products` while the pipeline runs. `caughtUp` waits until everything in the
   * topics is applied (products, outbox, product_count); the run waits for that once more after it.
   */
  work: (pipeline: { caughtUp: () => Promise<void> }) => Promise<T>;
}

/**
 * The whole pipeline, start to finish. Starts N products consumers, the relay and the
 * product-count consumer as processes, waits until the group has spread the partitions, does the
 * work (streams a file), then waits until everything is applied: products consumers at the end
 * offsets the producer left, the outbox empty, the product-count consumer at its end offsets.
 * Then `products` and `product_count` reflect everything sent.
 */
export async function runPipeline<T>(
  options: { config: DasyConfig; logger: Logger; consumers: number; phasesFile?: string } & PipelineWork<T>,
): Promise<{ result: T; products: number; names: number; seconds: number }> {
  const { config, logger } = options;
  const started = Date.now();
  const log = logger.namespace('ingest');
  // The parts start while this process prepares (they load their code meanwhile), and wait for
  // it rather than prepare again (each would load the migrations and ask Kafka again).
  // Every name the relay sends costs a recount: during an ingest, let marks coalesce until the
  // products consumers pause (a name marked by several batches is then sent once): it waits up to
  // a minute, or a few quiet seconds, unless told that the products are applied.
  const relayArgs = ['product-count-producer', '--max-delay', String(INGEST_RELAY_MAX_DELAY_MS), '--quiet', String(INGEST_RELAY_QUIET_MS)];
  const parts = new Supervisor(
    Array.from({ length: options.consumers }, () => ({
      args: [productsConsumer.name, '--consumers', '1'],
      stdout: 'ignore' as const,
      heapMb: productsConsumer.heapMb,
    })),
    { logger: log, preparesForThem: true },
  );
  const products = [...parts.replicas];
  // The relay and the product-count consumer have nothing to do before the products are applied:
  // they start once the products consumers have their partitions, not in the CPU they start in.
  let followers: Promise<Replica> | undefined;
  const startFollowers = () =>
    (followers ??= waitForAssignments(products, TOPICS.products.partitions, 10_000).then(() => {
      const relay = parts.add({ args: relayArgs, stdout: 'ignore' });
      parts.add({ args: [productCountConsumer.name], stdout: 'ignore', heapMb: productCountConsumer.heapMb });
      return relay;
    }));
  // two for the progress checks, one for the VACUUM that may run meanwhile
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    namespace: config.namespace,
    max: 3,
    applicationName: 'dasy-ingest',
    idleInTransactionMs: config.pgIdleInTransactionMs,
  });
  try {
    await prepare(config, log);
    if (options.beforeConsumers) await options.beforeConsumers(pool);
  } catch (err) {
    await parts.stop();
    await pool.end().catch(() => undefined);
    throw err;
  }
  parts.ready();
  /** Tell the relay the products are applied: drain now (idempotent, so said again while marks wait). */
  const drain = () => {
    startFollowers().then(
      (relay) => relay.send({ type: 'drain' }),
      () => undefined, // stopping
    );
  };
  startFollowers().catch((err) => log.debug('the relay and the product-count consumer did not start', { err: errorMessage(err) }));
  // persistent: the progress checks wait for a restarting broker like the pipeline does
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-ingest', logger: log, persistent: true });
  const admin = kafka.admin();
  const progress = createProgress();
  try {
    await admin.connect();
    let vacuumed: Promise<unknown> = Promise.resolve();
    const caughtUp = () =>
      waitCaughtUp({
        config,
        pool,
        admin,
        progress,
        logger: log,
        onProductsApplied: () => {
          // Every row is in: VACUUM sets the visibility map of the new pages, so the recounts that
          // follow read only the index on products(name) (index-only scans), not a heap page per
          // product: a third of their cost at 500,000 rows, more once the table outgrows
          // shared_buffers; ANALYZE gives the planner the new table's statistics (without them a
          // batch's recount took a third longer). Only when there is something to recount (a
          // re-ingest that changed nothing has nothing to gain from it). It runs while the relay
          // starts draining (it needs no lock the pipeline waits for); one that cannot run (not the
          // table's owner) is no harm.
          vacuumed = vacuumed
            .then(() => pool.query('SELECT EXISTS (SELECT 1 FROM product_count_outbox WHERE namespace = $1) AS marked', [config.namespace]))
            .then(({ rows }) => ((rows[0] as { marked: boolean }).marked ? pool.query('VACUUM (ANALYZE) products') : undefined))
            .catch((err) => log.debug('VACUUM (ANALYZE) products failed', { err: String(err) }));
          drain();
        },
        // a relay that was still starting missed the word: say it again while marks wait
        onOutboxWaiting: drain,
      });
    // Produce while the consumers start and join their group (a second or two): producing before
    // the group settles is safe, and what is produced meanwhile waits in Kafka for them.
    const assigned = startFollowers().then(() => Date.now());
    const result = await options.work({ caughtUp: async () => void (await caughtUp()) });
    const producedAt = Date.now();
    const ready = await assigned;
    // done means durable: every commit of the parts waited for the WAL flush, so what this saw
    // applied survives a PostgreSQL crash right after it
    const phases = await caughtUp();
    await vacuumed;
    const timings = {
      consumersReady: (ready - started) / 1000,
      produced: (producedAt - started) / 1000,
      productsApplied: (phases.productsAt - started) / 1000,
      outboxEmpty: (phases.outboxAt - started) / 1000,
      countsApplied: (phases.countsAt - started) / 1000,
    };
    log.info('phases (s since start)', timings);
    if (options.phasesFile) fs.writeFileSync(options.phasesFile, JSON.stringify(timings));
    const counts = await retryQuery(
      pool,
      outageNotice(log, 'PostgreSQL'),
      'SELECT (SELECT count(*) FROM products) AS p, (SELECT count(*) FROM product_count) AS n',
      [],
    );
    const { p, n } = counts.rows[0] as { p: string; n: string };
    return { result, products: Number(p), names: Number(n), seconds: Math.round((Date.now() - started) / 10) / 100 };
  } finally {
    progress.done();
    await parts.stop();
    await admin.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

async function waitForAssignments(consumers: Replica[], partitions: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const want = Math.min(consumers.length, partitions);
  while (Date.now() < deadline) {
    const seen = consumers.map((c) => c.partitions).filter((p): p is number[] => !!p && p.length > 0);
    const union = new Set(seen.flat());
    const total = seen.reduce((a, p) => a + p.length, 0);
    if (seen.length >= want && union.size === partitions && total === partitions) return;
    await sleep(25);
  }
}

/**
 * Until products, the outbox and product_count are caught up with what the producer wrote.
 * PostgreSQL or Kafka going away meanwhile is waited for (said once), like the pipeline does.
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
}) {
  const { config, admin } = options;
  const pollMs = options.pollMs ?? 50;
  const pgNotice = outageNotice(options.logger ?? createLogger('dasy').namespace('ingest'), 'PostgreSQL');
  // every query through here: a lost connection is retried, not the end of the ingest
  const pool = { query: (text: string, values: unknown[]) => retryQuery(options.pool, pgNotice, text, values) } as unknown as Pool;
  // the client says it once when Kafka does not answer
  const kafkaRetry = <T>(fn: () => Promise<T>) => retry(fn, { isRetriable: isKafkaUnavailable });
  const productsTopic = topicName(config.namespace, 'products');
  const countTopic = topicName(config.namespace, 'productCount');
  const productsEnd = await kafkaRetry(() => endOffsets(admin, productsTopic));
  await untilApplied(pool, groupId(config.namespace, GROUPS.products), productsTopic, productsEnd, pollMs, (lag) =>
    options.progress?.update(`ingest: products lag ${lag.toLocaleString('en-US')}`),
  );
  const productsAt = Date.now();
  options.onProductsApplied?.();
  for (;;) {
    // a probe of the (namespace, id) index, not a count of what may be millions of marks
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM product_count_outbox WHERE namespace = $1 LIMIT 1', [config.namespace]);
    if (!rows.length) break;
    options.onOutboxWaiting?.();
    options.progress?.update(`ingest: names waiting in the outbox`);
    await sleep(pollMs);
  }
  const outboxAt = Date.now();
  const countEnd = await kafkaRetry(() => endOffsets(admin, countTopic));
  await untilApplied(pool, groupId(config.namespace, GROUPS.productCount), countTopic, countEnd, pollMs, (lag) =>
    options.progress?.update(`ingest: product-count lag ${lag.toLocaleString('en-US')}`),
  );
  return { productsAt, outboxAt, countsAt: Date.now() };
}

async function untilApplied(pool: Pool, group: string, topic: string, end: Map<number, bigint>, pollMs: number, onLag: (lag: bigint) => void) {
  for (;;) {
    const lag = totalLag(end, await storedOffsets(pool, group, topic));
    if (lag === 0n) return;
    onLag(lag);
    await sleep(pollMs);
  }
}

/** A query that waits for PostgreSQL through an outage or a restart (said once), as the parts do. */
function retryQuery(pool: Pool, notice: OutageNotice, text: string, values: unknown[]) {
  return retry(() => pool.query(text, values), { isRetriable: isPostgresUnavailable, notice });
}
