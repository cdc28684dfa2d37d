import { ConsumerTuning } from '../config/parse';
import { DasyConfig } from '../config/settings';
import { BatchApp, BatchConsumer, CommitStrategyName, createBatchConsumer } from '../consumer';
import { createPool, Pool } from '../db';
import { createKafka } from '../kafka/client';
import { groupId, topicName, TopicId } from '../kafka/topics';
import { Logger } from '../log';
import { Component } from './component';

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

const DEFAULT_TUNING: Required<ConsumerTuning> = { members: 1, concurrency: 3, maxBytesPerPartition: 2 * 1024 * 1024 };

export interface ConsumerComponent extends Component {
  readonly consumers: BatchConsumer[];
  readonly pool: Pool;
}

/**
 * A consumer part: its pool, its Kafka client and its group members (one per `members`), applying
 * `app` to `<ns>.<topic>` in group `<ns>.<group>`. Tuning: the part's defaults, then
 * DASY_CONSUMER_TUNING (all parts, then this part's own keys).
 */
export function consumerComponent<T>(options: {
  config: DasyConfig;
  logger: Logger;
  name: string;
  topic: TopicId;
  group: string;
  app: BatchApp<T>;
  tuning?: ConsumerTuning;
  /** how each batch is committed (libs/consumer/types.ts): plain unless said */
  commit?: CommitStrategyName;
  maxWaitTimeInMs?: number;
}): ConsumerComponent {
  const { config } = options;
  const t = { ...DEFAULT_TUNING, ...options.tuning, ...config.consumerTuning['*'], ...config.consumerTuning[options.name] };
  const pool = createPool({
    databaseUrl: sessionSettings(config.databaseUrl),
    namespace: config.namespace,
    max: t.members * t.concurrency,
    idleInTransactionMs: config.pgIdleInTransactionMs,
    applicationName: `dasy-${options.name}`,
  });
  const kafka = createKafka({
    brokers: config.kafkaBrokers,
    clientId: `dasy-${options.name}`,
    logger: options.logger.namespace(options.name),
    persistent: true,
  });
  const consumers = Array.from({ length: t.members }, () =>
    createBatchConsumer({
      kafka,
      pool,
      logger: options.logger,
      groupId: groupId(config.namespace, options.group),
      topic: topicName(config.namespace, options.topic),
      app: options.app,
      partitionsConsumedConcurrently: t.concurrency,
      maxBytesPerPartition: t.maxBytesPerPartition,
      maxWaitTimeInMs: options.maxWaitTimeInMs,
      commit: options.commit,
    }),
  );
  return {
    consumers,
    pool,
    async start() {
      await Promise.all(consumers.map((c) => c.start()));
    },
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()));
      await pool.end().catch(() => undefined);
    },
    onAssigned(listener) {
      // every member's partitions, together: the process's share of the group
      const byMember = consumers.map(() => [] as number[]);
      consumers.forEach((c, i) =>
        c.events.on('joined', (partitions) => {
          byMember[i] = partitions;
          listener(byMember.flat().sort((a, b) => a - b));
        }),
      );
    },
  };
}
