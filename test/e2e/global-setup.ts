import { execSync } from 'child_process';
import { kafkaContainer, KAFKA_HOST_PORT, postgresContainer } from './containers';
import { unsupportedNode } from './supported-node';

/**
 * Where a Docker engine answers and no KAFKA_BROKERS/DATABASE_URL is set, start Kafka and
 * PostgreSQL with testcontainers (containers.ts); otherwise the suite uses the running stack
 * (`make up`). Workers inherit the environment set here.
 */
export default async function globalSetup(): Promise<void> {
  const wrongNode = unsupportedNode(process.version, process.execPath);
  if (wrongNode) throw new Error(wrongNode);
  if (process.env.KAFKA_BROKERS || process.env.DATABASE_URL || !dockerAnswers()) return;
  const [pg, kafka] = await Promise.all([postgresContainer().start(), kafkaContainer().start()]);
  process.env.KAFKA_BROKERS = `127.0.0.1:${KAFKA_HOST_PORT}`;
  process.env.DATABASE_URL = pg.getConnectionUri();
  (globalThis as Record<string, unknown>).__dasyContainers = [kafka, pg];
}

function dockerAnswers(): boolean {
  try {
    execSync('docker info', { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}
