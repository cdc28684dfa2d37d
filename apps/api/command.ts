import { Kafka } from '../../libs/kafka/port';
import { Pool } from 'pg';
import { AddressInfo } from 'net';
import { DasyConfig } from '../../libs/config';
import { createPool } from '../../libs/db';
import { createKafka } from '../../libs/kafka/client';
import { BatchConsumer } from '../../libs/consumer';
import { groupId, topicName } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { Stoppable, untilSignal } from '../../libs/runtime';
import { consumerComponent, ConsumerComponent } from '../../libs/runtime/consumer-component';
import { partTopicName, type ConsumerPart } from '../../libs/runtime/consumer-part';
import { consumedGroups, CONSUMER_PARTS } from '../components';
import { prepare } from '../stack';
import { ApiApp } from './app';
import { AppliedTracker } from './applied';
import { EventProducer } from './producer';
import { buildServer } from './server';
import { within } from './within';

export interface ApiOptions {
  port: number;
  host: string;
  consumers: boolean;
  pushTimeoutMs: number;
  /** more routes on the same server (e.g. the dashboard), registered before it listens */
  extend?: (app: ApiApp, context: ApiContext) => void | Promise<void>;
  /** called once the server accepts requests, with its URL (after the listening line) */
  onListening?: (url: string) => void | Promise<void>;
}

/** What an extension may use: the api process's Kafka client and read pool (do not end them). */
export interface ApiContext {
  config: DasyConfig;
  kafka: Kafka;
  pool: Pool;
  logger: Logger;
}

/**
 * `dasy api`: the HTTP service, by default with its two consumers in the same process
 * (`--no-consumers` to run the server alone, with `dasy scores-consumer` / `dasy events-consumer`
 * elsewhere). Prints one line with its URL once it accepts requests; stops cleanly on SIGTERM/SIGINT.
 */
export async function runApi(config: DasyConfig, logger: Logger, options: ApiOptions): Promise<number> {
  await prepare(config, logger);
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-api', logger, noDelay: true });
  const readPool = createPool({
    databaseUrl: config.databaseUrl,
    namespace: config.namespace,
    max: 8,
    applicationName: 'dasy-api',
    idleInTransactionMs: config.pgIdleInTransactionMs,
  });
  const consumerPools = [] as ReturnType<typeof createPool>[];
  const scoresTopic = topicName(config.namespace, 'scores');
  const tracker = new AppliedTracker({
    databaseUrl: config.databaseUrl,
    pool: readPool,
    group: groupId(config.namespace, CONSUMER_PARTS.scores.group),
    topic: scoresTopic,
    logger,
    ignoreOwn: options.consumers,
  });
  const consumers: BatchConsumer[] = [];
  const observed: { consumer: BatchConsumer; group: string; topic: string }[] = [];
  // each member of a part with its group and topic, for the metrics
  const observe = (component: ConsumerComponent, part: Pick<ConsumerPart, 'group' | 'topic'>) =>
    component.consumers.map((consumer) => ({ consumer, group: groupId(config.namespace, part.group), topic: partTopicName(config.namespace, part.topic) }));
  const producer = new EventProducer(kafka, [scoresTopic, topicName(config.namespace, 'adEvents')], { maxQueued: config.apiSendQueue });
  let server: ReturnType<typeof buildServer> | undefined;
  let url: string;

  let stopping: Promise<void> | undefined;
  const shutdown: Stoppable = {
    stop: () =>
      (stopping ??= (async () => {
        // In order: no new requests (those in flight finish while the consumers still run), then
        // the producer, the consumers (each finishes or abandons its batch), the database.
        // Within 10 s even with Kafka down: events Kafka has not acknowledged are given up within
        // 1 s (server.ts), every step that talks to Kafka is bounded.
        await server?.close().catch(() => undefined);
        // every request is answered by now: a send still in flight (Kafka down) is waited for briefly
        await Promise.all([producer.stop(1000), within(2000, Promise.allSettled(consumers.map((c) => c.stop())))]);
        await tracker.stop();
        await Promise.allSettled([readPool, ...consumerPools].map((p) => p.end()));
      })()),
  };

  try {
    await tracker.start();
    if (options.consumers) {
      // the same parts as `dasy scores-consumer` and `dasy events-consumer` (apps/components.ts), on this process's Kafka client
      const context = { config, logger, kafka };
      const scores = await consumerComponent(CONSUMER_PARTS.scores, context, { onApplied: (p, o, batch) => tracker.advance(p, o, batch) });
      const events = await consumerComponent(CONSUMER_PARTS.events, context);
      consumerPools.push(scores.pool, events.pool);
      consumers.push(...scores.consumers, ...events.consumers);
      observed.push(...observe(scores, CONSUMER_PARTS.scores), ...observe(events, CONSUMER_PARTS.events));
      for (const c of consumers) await c.start();
      // Serve once the group gave us partitions, so the first pushes do not wait for a join.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(consumers.map((c) => c.joined())), new Promise((r) => (timer = setTimeout(r, 30000)))]);
      clearTimeout(timer);
    }
    await producer.start();
    server = buildServer({
      pool: readPool,
      producer,
      tracker,
      logger,
      topics: { scores: scoresTopic, adEvents: topicName(config.namespace, 'adEvents') },
      apiToken: config.apiToken,
      adUpstreamUrl: config.adUpstreamUrl,
      pushTimeoutMs: options.pushTimeoutMs,
      idempotencyWindowMs: config.apiIdempotencyWindowMs,
      consumers: options.consumers,
      timeouts: {
        // the headers are part of the request: node wants their timeout within the request's
        headersMs: Math.min(config.apiHeadersTimeoutMs, config.apiRequestTimeoutMs),
        requestMs: config.apiRequestTimeoutMs,
        keepAliveMs: config.apiKeepAliveTimeoutMs,
      },
    });
    const { registerOps } = await import('./ops'); // GET /metrics and /readyz (prom-client loads in the api's process only)
    await registerOps(server, { config, kafka, pool: readPool, logger, tracker, consumers: observed, groups: consumedGroups(config.namespace) });
    await options.extend?.(server, { config, kafka, pool: readPool, logger });
    await server.listen(options.port, options.host);
    const address = server.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    url = `http://${host}:${address.port}`;
    console.log(`api listening on ${url}`);
  } catch (err) {
    await shutdown.stop();
    throw err;
  }
  const stopped = untilSignal([shutdown]);
  try {
    await options.onListening?.(url);
  } catch (err) {
    await shutdown.stop();
    throw err;
  }
  await stopped;
  return 0;
}
