import { execSync } from 'child_process';

/**
 * Where a Docker engine answers and no KAFKA_BROKERS/DATABASE_URL is set, start Kafka and
 * PostgreSQL with testcontainers; otherwise the suite uses the running stack (`make up`).
 * Workers inherit the environment set here.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS || process.env.DATABASE_URL || !dockerAnswers()) return;
  const { GenericContainer, Wait } = await import('testcontainers');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql').catch(() => ({ PostgreSqlContainer: undefined }));
  const pg = PostgreSqlContainer ? await new PostgreSqlContainer('postgres:16').withUsername('postgres').withPassword('postgres').start() : undefined;
  const kafka = await new GenericContainer('apache/kafka:3.9.1')
    .withExposedPorts({ container: 9092, host: 39092 })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:39092',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  process.env.KAFKA_BROKERS = '127.0.0.1:39092';
  if (pg) process.env.DATABASE_URL = `postgres://postgres:postgres@${pg.getHost()}:${pg.getPort()}/postgres`;
  (globalThis as Record<string, unknown>).__dasyContainers = [kafka, pg].filter(Boolean);
}

function dockerAnswers(): boolean {
  try {
    execSync('docker info', { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}
