import type { ConsumedGroup, ExporterOptions } from './metrics';
import { groupId, topicName, type TopicId } from '../libs/kafka/topics';
import type { ComponentSpec } from '../libs/runtime';
import { relayAndRecounts } from '../libs/runtime/followers';
import type { ConsumerPart } from '../libs/runtime/consumer-part';
import type { AppliedBatch } from './api/applied-channel';

/**
 * Every long-running part of dasy, declared once: its command, what it consumes, how it is made.
 * The CLI runs them (libs/runtime/component.ts); `make status`, `make reset`, the dashboard and
 * the metrics read their groups and dead-letter topics from here. A part's code is loaded when it
 * is created, not when this list is read: a process loads only the part it runs.
 */

const consumerComponent = async () => (await import('../libs/runtime/consumer-component')).consumerComponent;

/** What the api hooks into its own scores consumer: the applied batches, for the requests waiting on them. */
export interface ScoresHooks {
  onApplied?: (partition: number, nextOffset: bigint, batch: AppliedBatch) => void;
}

/*
 * Every consumer, declared once: its name, topic, group and settings, and its app. The part's own
 * process (`dasy <name>`, the specs below) and the api's (scores and events, in-process) both
 * build it from here with consumerComponent (libs/runtime/consumer-component.ts).
 */
const products: ConsumerPart<never, TopicId> = {
  name: 'products-consumer',
  description: 'apply <ns>.products to PostgreSQL (upsert by sku, outbox marks), until stopped',
  topic: 'products',
  group: 'products-consumer',
  // One batch at a time per process: with two processes, two upserts at once. Four (two each) made
  // PostgreSQL's backends wait for each other on two cores: six interleaved 500,000-row ingests
  // each way took a median 2.02x the strict floor with four, 1.76x with two (a tenth less CPU in
  // the backends), and the consumers alone drained 87,000 msg/s with four, 100,000 with two.
  settings: { tuning: { concurrency: 1 } },
  app: async (config) => (await import('./products-consumer')).productsUpsert(config.namespace),
};

const productCount: ConsumerPart<never, TopicId> = {
  name: 'product-count-consumer',
  description: 'keep product_count exact from <ns>.product-count, until stopped',
  topic: 'productCount',
  group: 'product-count-consumer',
  // Its messages are tiny (a name, no value): 512 KiB per partition is some 10,000 recounts per
  // batch, plenty to amortise a transaction, and a recount costs one index probe per name
  // whatever the batch size (larger batches only held more in memory).
  settings: { tuning: { maxBytesPerPartition: 512 * 1024 } },
  app: async () => (await import('./product-count-consumer')).productCountRecount(),
};

const scores: ConsumerPart<ScoresHooks, TopicId> = {
  name: 'scores-consumer',
  description: 'apply <ns>.scores (pushes and resets) to the score statistics tables, until stopped',
  topic: 'scores',
  group: 'scores-consumer',
  // latency-bound (a push waits for it): small waits, both commit strategies
  settings: { tuning: { concurrency: 6, maxBytesPerPartition: 1024 * 1024 }, maxWaitTimeInMs: 100, commit: 'coalesce' },
  app: async (config, hooks) =>
    (await import('./api/scores-consumer')).scoresApp({
      audit: config.audit,
      group: groupId(config.namespace, scores.group),
      windowMs: config.apiIdempotencyWindowMs,
      onApplied: hooks?.onApplied,
    }),
};

const events: ConsumerPart<never, TopicId> = {
  name: 'events-consumer',
  description: 'apply <ns>.ad-events to the ad request counters, until stopped',
  topic: 'adEvents',
  group: 'events-consumer',
  settings: { tuning: { concurrency: 3 } },
  app: async () => (await import('./api/events-consumer')).eventsApp(),
};

export const CONSUMER_PARTS = { products, productCount, scores, events } as const;

/** A consumer part as the CLI and the supervisor run it: in a process of its own. */
function consumerSpec<H>(part: ConsumerPart<H, TopicId>, extra: { heapMb?: number } = {}): ComponentSpec {
  return {
    name: part.name,
    description: part.description,
    consumes: { topic: part.topic, group: part.group },
    ...extra,
    create: async ({ config, logger }) => (await consumerComponent())(part, { config, logger }),
  };
}

export const productsConsumer = consumerSpec(CONSUMER_PARTS.products);

// Its working set is a few fetches of names (tens of MB), but with V8's default heap its garbage
// grew to 320-420 MB over a 2,000,000-row backlog; capped, it peaks near 220-240 MB for 1-2% of
// the pipeline's CPU (bench scale).
export const productCountConsumer = consumerSpec(CONSUMER_PARTS.productCount, { heapMb: 192 });

export interface RelayOptions {
  maxDelayMs?: number;
  quietMs?: number;
  /** after the broker acknowledged a drain's names, before their marks are deleted: the development entry point's fault injection (dev/faults.ts) */
  afterSend?: (sent: number) => Promise<void>;
}

export const productCountRelay: ComponentSpec<RelayOptions> = {
  name: 'product-count-producer',
  description: 'relay the outbox of names to recount into <ns>.product-count, until stopped',
  // Its working set is a page of names and a send; a 2,000,000-row backlog took it to 277 MB RSS
  // with V8's default heap, 185 MB capped, for 0.3 CPU s more (bench scale, one run each).
  heapMb: 192,
  create: async ({ config, logger }, options) => {
    const [{ createPool }, { sessionSettings }, { createProductCountRelay }, { onParentMessage }] = await Promise.all([
      import('../libs/db'),
      import('../libs/runtime/consumer-component'),
      import('./product-count-producer'),
      import('../libs/runtime/messages'),
    ]);
    const pool = createPool({
      databaseUrl: sessionSettings(config.databaseUrl),
      namespace: config.namespace,
      max: 2,
      applicationName: 'dasy-product-count-producer',
      idleInTransactionMs: config.pgIdleInTransactionMs,
    });
    const relay = createProductCountRelay({ config, pool, logger, ...options });
    // `ingest` says when the products are applied: nothing more to wait for
    const unlisten = onParentMessage((m) => m.type === 'drain' && relay.drainNow());
    return {
      start: () => relay.start(),
      async stop() {
        unlisten();
        await relay.stop();
        await pool.end().catch(() => undefined);
      },
    };
  },
};

/**
 * The relay and the product-count consumer in one process: what `ingest`, `delete` and `rebuild`
 * fork. Neither has work before the products are applied and each is a hop, so one process costs
 * one runtime and one start (about 0.3 CPU s of module loading), not two, as a declared dataset's
 * `dataset-aggregates` does. Each still runs alone from its own command.
 */
export const productCountFollowers: ComponentSpec<RelayOptions> = {
  name: 'product-count',
  description: 'the relay and the product-count consumer in one process (what ingest runs), until stopped',
  // both working sets in one heap: the relay's page of names and send, the consumer's fetches
  heapMb: 256,
  create: async (context, options) => {
    const relay = await productCountRelay.create(context, options);
    const recount = await productCountConsumer.create(context, undefined as never);
    return {
      ...relayAndRecounts(relay, [recount]),
      group: groupId(context.config.namespace, CONSUMER_PARTS.productCount.group),
      onAssigned: (listener) => recount.onAssigned?.(listener),
    };
  },
};

/** A declared dataset's part: the spec file it runs (`--dataset`). */
export interface DatasetPartOptions {
  dataset: string;
}

export const datasetConsumer: ComponentSpec<DatasetPartOptions> = {
  name: 'dataset-consumer',
  description: "apply a declared dataset's <ns>.<dataset> to its table (upsert by key, outbox marks), until stopped",
  create: async ({ config, logger }, { dataset }) => {
    const [{ loadDatasetSpec }, { rowsPart }] = await Promise.all([import('../libs/dataset/spec'), import('./datasets/parts')]);
    return (await consumerComponent())(rowsPart(loadDatasetSpec(dataset)), { config, logger });
  },
};

export const datasetAggregates: ComponentSpec<DatasetPartOptions & RelayOptions> = {
  name: 'dataset-aggregates',
  description: "relay a declared dataset's groups to recount and keep each of its aggregates exact, until stopped",
  create: async ({ config, logger }, { dataset, ...relay }) => {
    const [{ loadDatasetSpec }, { followersComponent }] = await Promise.all([import('../libs/dataset/spec'), import('./datasets/parts')]);
    return followersComponent(loadDatasetSpec(dataset), { config, logger }, relay);
  },
};

export const scoresConsumer = consumerSpec(CONSUMER_PARTS.scores);

export const eventsConsumer = consumerSpec(CONSUMER_PARTS.events);

export const metricsExporter: ComponentSpec<ExporterOptions> = {
  name: 'metrics',
  description: 'the Prometheus exporter on its own (lag of every group, dead letters, rejects, table sizes, outbox), until stopped',
  create: async (context, options) => (await import('./metrics')).exporterComponent(context, options, consumedGroups(context.config.namespace)),
};

/** Every part, in pipeline order. */
export const COMPONENTS: ComponentSpec<never>[] = [productsConsumer, productCountRelay, productCountConsumer, scoresConsumer, eventsConsumer, metricsExporter];

/** The consumer parts: their groups and topics, for status, reset, the dashboard and metrics. */
export const CONSUMERS = COMPONENTS.filter((c): c is ComponentSpec<never> & Required<Pick<ComponentSpec, 'consumes'>> => !!c.consumes);

/** Every consumer group of a namespace with its topic, full names (the metrics' groups). */
export function consumedGroups(namespace: string): ConsumedGroup[] {
  return CONSUMERS.map((c) => ({ group: groupId(namespace, c.consumes.group), topic: topicName(namespace, c.consumes.topic) }));
}

/** Consumer group app names of the products pipeline. */
export const GROUPS = { products: CONSUMER_PARTS.products.group, productCount: CONSUMER_PARTS.productCount.group } as const;
