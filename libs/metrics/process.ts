import { DasyConfig } from '../config/settings';
import { createPool } from '../db';
import { createKafka } from '../kafka/client';
import { Logger } from '../log';
import { observeConsumers, ObservedConsumer } from './consumer';
import { consumersJoined, kafkaAnswers, postgresAnswers, readiness } from './health';
import { createRegistry } from './registry';
import { OpsServer, serveOps } from './server';

/**
 * A long-running part's own metrics (`--metrics-port`): its process (CPU, heap, event loop lag),
 * what its consumers do (batches, records, batch durations, fences, dead letters), and /healthz
 * and /readyz (its consumers joined, PostgreSQL and Kafka answer). The checks have their own
 * connection and client, so that a probe never waits behind the part's work.
 */
export async function serveProcessMetrics(options: {
  config: DasyConfig;
  logger: Logger;
  /** the part (application name of the probe's connections) */
  name: string;
  consumers: ObservedConsumer[];
  port: number;
  host: string;
}): Promise<OpsServer> {
  const { config, name } = options;
  const registry = createRegistry(config.namespace);
  const memberships = observeConsumers(registry, options.consumers);
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    namespace: config.namespace,
    max: 1,
    applicationName: `dasy-${name}-health`,
    idleInTransactionMs: config.pgIdleInTransactionMs,
  });
  // the part's own client says when Kafka is unavailable; the probe's says it at debug level only
  const admin = createKafka({ brokers: config.kafkaBrokers, clientId: `dasy-${name}-health`, logger: debugOnly(options.logger) }).admin();
  const checks = { postgresql: postgresAnswers(pool), kafka: kafkaAnswers(admin), ...(memberships.length ? { consumers: consumersJoined(memberships) } : {}) };
  const server = await serveOps({ registry, ready: () => readiness(checks) }, options);
  return {
    url: server.url,
    async close() {
      await server.close();
      await admin.disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

function debugOnly(logger: Logger): Logger {
  const debug = (message: string, extra?: Record<string, unknown>) => logger.debug(message, extra);
  return { ...logger, warn: debug, error: debug, namespace: (n) => debugOnly(logger.namespace(n)) };
}
