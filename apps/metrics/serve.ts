import { DasyConfig } from '../../libs/config';
import { createPool } from '../../libs/db';
import { createKafka } from '../../libs/kafka/client';
import { Logger } from '../../libs/log';
import { createRegistry, kafkaAnswers, OpsServer, postgresAnswers, readiness, serveOps } from '../../libs/metrics';
import { clusterMetrics } from './exporter';
import { ClusterSource, ConsumedGroup } from './source';

/**
 * `dasy metrics`: the exporter on its own, for deployments without the api. The same cluster
 * series as the api's /metrics, this process's own, and /healthz and /readyz (PostgreSQL and
 * Kafka answer).
 */
export async function serveExporter(options: { config: DasyConfig; logger: Logger; groups: ConsumedGroup[]; port: number; host: string }): Promise<OpsServer> {
  const { config, logger } = options;
  const registry = createRegistry(config.namespace);
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    namespace: config.namespace,
    max: 3,
    applicationName: 'dasy-metrics',
    idleInTransactionMs: config.pgIdleInTransactionMs,
  });
  const admin = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-metrics', logger }).admin();
  clusterMetrics(registry, new ClusterSource({ pool, admin, namespace: config.namespace, groups: options.groups, logger }));
  const checks = { postgresql: postgresAnswers(pool), kafka: kafkaAnswers(admin) };
  let server: OpsServer;
  try {
    server = await serveOps({ registry, ready: () => readiness(checks) }, { port: options.port, host: options.host, logger });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return {
    url: server.url,
    async close() {
      await server.close();
      await admin.disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}
