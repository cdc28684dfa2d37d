import { DasyConfig } from '../../libs/config';
import { createPool } from '../../libs/db';
import { AggregateSpec, DatasetSpec } from '../../libs/dataset/spec';
import { aggregateGroupApp, aggregateTopic, rowsGroupApp, rowsTopic } from '../../libs/dataset/topics';
import { Logger } from '../../libs/log';
import { createOutboxRelay } from '../../libs/outbox/relay';
import { Component } from '../../libs/runtime';
import { relayAndRecounts } from '../../libs/runtime/followers';
import { consumerComponent, sessionSettings } from '../../libs/runtime/consumer-component';
import { ConsumerPart } from '../../libs/runtime/consumer-part';
import { onParentMessage } from '../../libs/runtime/messages';
import { RELAY_DEFAULTS } from '../product-count-producer/defaults';
import { aggregateRecount } from './group-recount';
import { datasetOutbox } from './outbox';
import { datasetRowsUpsert } from './rows-upsert';

/** The dataset's rows consumer, declared as products' is (apps/components.ts): one batch at a time per process. */
export function rowsPart(spec: DatasetSpec): ConsumerPart {
  return {
    name: `${spec.name}-consumer`,
    description: `apply <ns>.${spec.name} to table ${spec.name}`,
    topic: (namespace) => rowsTopic(namespace, spec),
    group: rowsGroupApp(spec),
    settings: { tuning: { concurrency: 1 } },
    app: async () => datasetRowsUpsert(spec),
  };
}

/** An aggregate's recount consumer, declared as product-count's is. */
export function aggregatePart(spec: DatasetSpec, aggregate: AggregateSpec): ConsumerPart {
  return {
    name: `${spec.name}.${aggregate.name}-consumer`,
    description: `keep ${aggregate.name} exact from <ns>.${spec.name}.${aggregate.name}`,
    topic: (namespace) => aggregateTopic(namespace, spec, aggregate),
    group: aggregateGroupApp(spec, aggregate),
    settings: { tuning: { maxBytesPerPartition: 512 * 1024 } },
    app: async () => aggregateRecount(spec, aggregate),
  };
}

export interface FollowerOptions {
  maxDelayMs?: number;
  quietMs?: number;
}

/**
 * What follows a dataset's rows, in one process: the relay of its outbox and each aggregate's
 * recount consumer. None has work before the rows are applied, and each is a hop: one process
 * costs one runtime, not one per aggregate.
 */
export async function followersComponent(
  spec: DatasetSpec,
  context: { config: DasyConfig; logger: Logger },
  options: FollowerOptions = {},
): Promise<Component> {
  const { config, logger } = context;
  const pool = createPool({
    databaseUrl: sessionSettings(config.databaseUrl),
    namespace: config.namespace,
    max: 2,
    applicationName: `dasy-${spec.name}-relay`,
    idleInTransactionMs: config.pgIdleInTransactionMs,
  });
  const relay = createOutboxRelay({
    outbox: datasetOutbox(config.namespace, spec),
    brokers: config.kafkaBrokers,
    databaseUrl: config.databaseUrl,
    pool,
    logger,
    timing: { ...RELAY_DEFAULTS, maxDelayMs: options.maxDelayMs ?? RELAY_DEFAULTS.maxDelayMs, quietMs: options.quietMs ?? RELAY_DEFAULTS.quietMs },
  });
  const recounts = await Promise.all(spec.aggregates.map((a) => consumerComponent(aggregatePart(spec, a), context)));
  // `ingest` says when the rows are applied: nothing more to wait for
  const unlisten = onParentMessage((m) => m.type === 'drain' && relay.drainNow());
  const relayPart = {
    start: () => relay.start(),
    async stop() {
      unlisten();
      await relay.stop();
      await pool.end().catch(() => undefined);
    },
  };
  return relayAndRecounts(relayPart, recounts);
}
