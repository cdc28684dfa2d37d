import { GenericContainer, Wait } from 'testcontainers';
import { PostgreSqlContainer } from '@testcontainers/postgresql';

/**
 * The e2e suite's Kafka and PostgreSQL where a Docker engine answers (global-setup.ts). The same
 * images and settings as docker-compose.yml. Kafka is a GenericContainer: @testcontainers/kafka's
 * KafkaContainer runs Confluent's entrypoint (/etc/confluent/docker/run) and cannot start the
 * apache/kafka image, whose KRaft settings are plain environment variables.
 */
export const KAFKA_IMAGE = 'apache/kafka:3.9.1';
export const POSTGRES_IMAGE = 'postgres:16';
/** the host port the broker advertises (a fixed one: a KRaft broker must know its address before it starts) */
export const KAFKA_HOST_PORT = 39092;

export const KAFKA_ENVIRONMENT = {
  KAFKA_NODE_ID: '1',
  KAFKA_PROCESS_ROLES: 'broker,controller',
  KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093',
  KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${KAFKA_HOST_PORT}`,
  KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
  KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
  KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
  KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
  KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
  KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
  KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
  KAFKA_LOG_DIRS: '/var/lib/kafka/data',
};

export function kafkaContainer(): GenericContainer {
  return new GenericContainer(KAFKA_IMAGE)
    .withExposedPorts({ container: 9092, host: KAFKA_HOST_PORT })
    .withEnvironment(KAFKA_ENVIRONMENT)
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/));
}

export function postgresContainer(): PostgreSqlContainer {
  return new PostgreSqlContainer(POSTGRES_IMAGE).withUsername('postgres').withPassword('postgres').withDatabase('dasy');
}
