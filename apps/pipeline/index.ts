import { DasyConfig } from '../../libs/config';
import { createPool, Pool } from '../../libs/db';
import { createKafka } from '../../libs/kafka/client';
import { Logger } from '../../libs/log';
import { groupId, topicName } from '../../libs/kafka/topics';
import { GROUPS } from '../components';
import { RunProgress, trackRun } from './run-progress';
import { prepare } from '../stack';
import { countTables, phaseTimings, PhaseTimings, vacuumProducts } from './completion';
import { startPipelineParts } from './parts';
import { waitCaughtUp } from './progress';

export { waitCaughtUp } from './progress';
export type { PhaseTimings } from './completion';

/** What a run of the whole pipeline does besides running it (ingest, delete, rebuild; sync within ingest). */
export interface PipelineWork<T> {
  /** after prepare, before the pipeline's consumers start (rebuild empties the tables here) */
  beforeConsumers?: (pool: Pool) => Promise<void>;
  /**
   * Sends into `<ns>.products` while the pipeline runs. `caughtUp` waits until everything in the
   * topics is applied (products, outbox, product_count); the run waits for that once more after it.
   */
  work: (pipeline: { caughtUp: () => Promise<void>; onRead: RunProgress['reading'] }) => Promise<T>;
}

export interface PipelineRun<T> {
  result: T;
  products: number;
  names: number;
  seconds: number;
  phases: PhaseTimings;
}

/**
 * The whole pipeline, start to finish, composed of its pieces: supervision (parts.ts: the parts
 * forked and told to drain), progress (progress.ts: polls until each stage is caught up) and
 * completion (completion.ts: the VACUUM once the products are in, the phases, the final counts).
 * It starts the parts, prepares the namespace meanwhile, does the work (streams a file) while the
 * products consumers join their group, then waits until everything is applied: then `products` and
 * `product_count` reflect everything sent. Done means durable: every commit of the parts waited for
 * the WAL flush, so what this saw applied survives a PostgreSQL crash right after it.
 */
export async function runPipeline<T>(options: { config: DasyConfig; logger: Logger; consumers: number } & PipelineWork<T>): Promise<PipelineRun<T>> {
  const { config } = options;
  const started = Date.now();
  const log = options.logger.namespace('ingest');
  const parts = startPipelineParts(options.consumers, log);
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
  // persistent: the progress checks wait for a restarting broker like the pipeline does
  const admin = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-ingest', logger: log, persistent: true }).admin();
  let progress: RunProgress | undefined;
  try {
    await admin.connect();
    progress = trackRun({
      label: 'ingest',
      admin,
      pool,
      stages: [
        { name: 'products', group: groupId(config.namespace, GROUPS.products), topic: topicName(config.namespace, 'products') },
        { name: 'product-count', group: groupId(config.namespace, GROUPS.productCount), topic: topicName(config.namespace, 'productCount') },
      ],
    });
    let vacuumed: Promise<void> = Promise.resolve();
    const onProductsApplied = () => {
      vacuumed = vacuumed.then(() => vacuumProducts(pool, config.namespace, log));
      parts.drain();
    };
    // a relay that was still starting missed the word: say it again while marks wait
    const caughtUp = () => waitCaughtUp({ config, pool, admin, logger: log, onProductsApplied, onOutboxWaiting: () => parts.drain() });
    // Produce while the consumers start and join their group (a second or two): producing before
    // the group settles is safe, and what is produced meanwhile waits in Kafka for them.
    const consumersReady = parts.followersStarted();
    const result = await options.work({ caughtUp: async () => void (await caughtUp()), onRead: progress.reading });
    progress.readDone();
    const produced = Date.now();
    const at = { consumersReady: await consumersReady, produced, caughtUp: await caughtUp() };
    await vacuumed;
    const phases = phaseTimings(started, at);
    log.info('phases (s since start)', phases);
    const counts = await countTables(pool, log);
    return { result, ...counts, seconds: Math.round((Date.now() - started) / 10) / 100, phases };
  } finally {
    progress?.stop();
    await parts.stop();
    await admin.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}
