import { ConsumerTuning } from '../config/parse';
import { DasyConfig } from '../config/settings';
import { BatchConsumer, createBatchConsumer } from '../consumer';
import { createPool, Pool } from '../db';
import { createKafka } from '../kafka/client';
import { Kafka } from '../kafka/port';
import { groupId } from '../kafka/topics';
import { Logger } from '../log';
import { Component } from './component';
import { ConsumerPart, partTopicName } from './consumer-part';

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
 * A consumer part (consumer-part.ts), built the one way whichever process runs it: its pool (the
 * pipeline's session settings, one connection per batch in flight), a Kafka client (its own, or
 * the process's when it has one: the api), its group members (one per `members`), applying the
 * part's app to `<ns>.<topic>` in group `<ns>.<group>`. Tuning: the part's settings, then
 * DASY_CONSUMER_TUNING (all parts, then this part's own keys).
 */
export async function consumerComponent<H>(
  part: ConsumerPart<H>,
  context: { config: DasyConfig; logger: Logger; kafka?: Kafka },
  hooks?: H,
): Promise<ConsumerComponent> {
  const { config } = context;
  const { settings } = part;
  const app = await part.app(config, hooks);
  const t = { ...DEFAULT_TUNING, ...settings.tuning, ...config.consumerTuning['*'], ...config.consumerTuning[part.name] };
  const pool = createPool({
    databaseUrl: sessionSettings(config.databaseUrl),
    namespace: config.namespace,
    max: t.members * t.concurrency,
    idleInTransactionMs: config.pgIdleInTransactionMs,
    applicationName: `dasy-${part.name}`,
  });
  const kafka =
    context.kafka ??
    createKafka({
      brokers: config.kafkaBrokers,
      clientId: `dasy-${part.name}`,
      logger: context.logger.namespace(part.name),
      persistent: true,
    });
  const consumers = Array.from({ length: t.members }, () =>
    createBatchConsumer({
      kafka,
      pool,
      logger: context.logger,
      groupId: groupId(config.namespace, part.group),
      topic: partTopicName(config.namespace, part.topic),
      app,
      partitionsConsumedConcurrently: t.concurrency,
      maxBytesPerPartition: t.maxBytesPerPartition,
      maxWaitTimeInMs: settings.maxWaitTimeInMs,
      commit: settings.commit,
      mirrorIntervalMs: config.offsetMirrorIntervalMs,
    }),
  );
  return {
    consumers,
    pool,
    group: groupId(config.namespace, part.group),
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
