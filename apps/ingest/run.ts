import { ChildProcess, fork } from 'child_process';
import { DasyConfig } from '../../libs/config';
import { createPool, Pool } from '../../libs/db';
import { BatchApp, BatchConsumer, createBatchConsumer } from '../../libs/kafka/consumer-base';
import { createKafka } from '../../libs/kafka/client';
import { groupId, topicName, TopicId } from '../../libs/kafka/topics';
import { createLogger, Logger } from '../../libs/log';
import { untilSignal } from '../../libs/runtime';
import { createProductCountRelay } from '../product-count-producer';
import { productCountRecount } from '../product-count-consumer';
import { productsUpsert } from '../products-consumer';

/**
 * Session settings of the pipeline's connections, in the connection string's `options` (kept if
 * the URL has its own). `jit=off`: the batch statements are costed high (thousands of rows), so
 * PostgreSQL would compile them to machine code at every execution, tens of milliseconds per
 * batch for statements that run in a few hundred; it pays off only for long analytic queries.
 */
export function sessionSettings(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const own = url.searchParams.get('options') ?? '';
  if (/\bjit\s*=/.test(own)) return databaseUrl;
  url.searchParams.set('options', `${own} -c jit=off`.trim());
  return url.toString();
}

/** Consumer groups of the pipeline: `<ns>.<app>`. */
export const GROUPS = {
  products: 'products-consumer',
  productCount: 'product-count-consumer',
} as const;

/** How a pipeline consumer reads: group members in the process, partitions each works on at once, batch size. */
export interface ConsumerTuning {
  /**
   * kafkajs members of the group in this process. A member fetches, then waits until every batch
   * of the fetch is applied before it fetches again; with one partition per member, the partitions
   * of a process no longer wait for each other (nor for the next fetch).
   */
  members: number;
  /** batches applied at once by one member (each with its own connection) */
  concurrency: number;
  /** bytes fetched per partition: bounds a batch */
  maxBytesPerPartition: number;
}

const DEFAULT_TUNING: ConsumerTuning = { members: 1, concurrency: 3, maxBytesPerPartition: 2 * 1024 * 1024 };

/** A consumer of one pipeline topic, its app and its pool, as one lifecycle. */
export function pipelineConsumer<T>(
  config: DasyConfig,
  logger: Logger,
  topicId: TopicId,
  app: string,
  batchApp: BatchApp<T>,
  tuning: Partial<ConsumerTuning> = {},
) {
  const t = { ...DEFAULT_TUNING, ...tuning, ...envTuning(app) };
  // When `ingest` forked this process, tell it about every (re)assignment (of all its members).
  const assignedTo = new Map<number, number[]>();
  const report = process.send ? () => process.send!({ type: 'assigned', partitions: [...assignedTo.values()].flat().sort((a, b) => a - b) }) : undefined;
  const pool: Pool = createPool({ databaseUrl: sessionSettings(config.databaseUrl), max: t.members * t.concurrency, applicationName: `dasy-${app}` });
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: `dasy-${app}`, logger: logger.namespace(app), persistent: true });
  const consumers: BatchConsumer[] = Array.from({ length: t.members }, (_, member) =>
    createBatchConsumer({
      kafka,
      pool,
      logger,
      groupId: groupId(config.namespace, app),
      topic: topicName(config.namespace, topicId),
      app: batchApp,
      partitionsConsumedConcurrently: t.concurrency,
      maxBytesPerPartition: t.maxBytesPerPartition,
      onAssigned: report
        ? (partitions) => {
            assignedTo.set(member, partitions);
            report();
          }
        : undefined,
    }),
  );
  return {
    consumer: consumers[0],
    consumers,
    async start() {
      await Promise.all(consumers.map((c) => c.start()));
    },
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()));
      await pool.end().catch(() => undefined);
    },
  };
}

/**
 * For measurements: DASY_CONSUMER_TUNING="members=2,concurrency=2,maxBytesPerPartition=4194304"
 * (every pipeline consumer), or DASY_CONSUMER_TUNING_<APP> (products_consumer, ...) for one.
 */
function envTuning(app: string): Partial<ConsumerTuning> {
  const raw = process.env[`DASY_CONSUMER_TUNING_${app.toUpperCase().replace(/-/g, '_')}`] ?? process.env.DASY_CONSUMER_TUNING;
  if (!raw) return {};
  const out: Partial<ConsumerTuning> = {};
  for (const part of raw.split(',')) {
    const [k, v] = part.split('=').map((x) => x.trim());
    if ((k === 'members' || k === 'concurrency' || k === 'maxBytesPerPartition') && /^\d+$/.test(v) && Number(v) > 0) out[k] = Number(v);
  }
  return out;
}

export function productsConsumer(config: DasyConfig, logger: Logger) {
  // Two batches at once per process: with two processes, four upserts keep PostgreSQL busy on two
  // cores; six (three each) only made them wait for each other, and cost more CPU per row.
  return pipelineConsumer(config, logger, 'products', GROUPS.products, productsUpsert(config.namespace), { concurrency: 2 });
}

export function productCountConsumer(config: DasyConfig, logger: Logger) {
  // Its messages are tiny (a name): 512 KiB per partition is already some 13,000 recounts per
  // batch, and what a fetch decodes into objects stays a few tens of MB (2 MiB took 580 MB).
  return pipelineConsumer(config, logger, 'productCount', GROUPS.productCount, productCountRecount(), { maxBytesPerPartition: 512 * 1024 });
}

export function productCountRelay(
  config: DasyConfig,
  logger: Logger,
  options: { maxDelayMs?: number; quietMs?: number; afterSend?: (names: string[]) => Promise<void> } = {},
) {
  const pool = createPool({ databaseUrl: sessionSettings(config.databaseUrl), max: 2, applicationName: 'dasy-product-count-producer' });
  const relay = createProductCountRelay({ config, pool, logger, maxDelayMs: options.maxDelayMs, quietMs: options.quietMs, afterSend: options.afterSend });
  return {
    relay,
    start: () => relay.start(),
    async stop() {
      await relay.stop();
      await pool.end().catch(() => undefined);
    },
  };
}

/**
 * Run a consumer in this process until SIGTERM/SIGINT. When started by `ingest` (an IPC
 * channel exists) it reports its partitions once the group assigned them.
 */
export async function runConsumerUntilSignal(component: { consumer: BatchConsumer; start(): Promise<void>; stop(): Promise<void> }): Promise<void> {
  let signalled = false;
  const stopped = untilSignal([component], () => (signalled = true));
  // Nothing left to wait on before a signal: the consumer ended without being told to. Say so and
  // exit non-zero (a supervisor restarts it), rather than leave with 0 as if all were well.
  const idledOut = () => {
    if (signalled) return;
    createLogger('dasy').error('the consumer stopped on its own (no connection or timer left); exiting so that it can be restarted');
    process.exit(1);
  };
  process.once('beforeExit', idledOut);
  await component.start();
  await stopped;
  process.off('beforeExit', idledOut);
  exitWhenStopped();
}

/**
 * After a clean stop the process exits even if a client library left a handle open (a socket
 * or timer of a connection that died in an outage): a stopped part must never linger. Unref'd,
 * so a process that exits by itself is not held back by it.
 */
export function exitWhenStopped(afterMs = 2000): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), afterMs).unref();
}

/**
 * N processes of one consumer group: fork N children of this same command with --consumers 1,
 * pass SIGTERM/SIGINT on, exit when they all have. A child that dies unexpectedly is restarted.
 */
export async function superviseProcesses(count: number, args: string[], logger: Logger): Promise<number> {
  const children = new Set<ChildProcess>();
  let stopping = false;
  const delays: number[] = Array.from({ length: count }, () => 500);
  const spawnOne = (index: number) => {
    const spawnedAt = Date.now();
    const child = fork(process.argv[1], args, { stdio: 'inherit' });
    children.add(child);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (!stopping) {
        // one that keeps failing right after its start is restarted less and less often, never in a loop
        delays[index] = signal === null && Date.now() - spawnedAt < 5000 ? Math.min(delays[index] * 2, 10000) : 500;
        logger.warn(`consumer process ${index} exited (${signal ?? code}); restarting it`);
        setTimeout(() => !stopping && spawnOne(index), delays[index]);
      }
    });
  };
  for (let i = 0; i < count; i++) spawnOne(i);
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      stopping = true;
      for (const c of children) c.kill(sig);
      const check = setInterval(() => {
        if (children.size === 0) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGTERM'));
  });
  return 0;
}
