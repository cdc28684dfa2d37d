import * as fs from 'fs';
import * as path from 'path';
import { KAFKA_ENVIRONMENT, kafkaContainer, postgresContainer } from './containers';

/**
 * No Docker engine runs where this suite is developed, so what can be checked without one is
 * checked here: the container definitions the e2e suite starts where one answers, and that they
 * agree with docker-compose.yml.
 */
type Inspectable = { imageName: { string: string }; exposedPorts: unknown[]; environment: Record<string, string> };
const inspect = (c: unknown) => c as Inspectable;

test('Kafka: apache/kafka 3.9.1 in KRaft mode, advertised on the host port it is mapped to, data in its data folder', () => {
  const k = inspect(kafkaContainer());
  expect(k.imageName.string).toBe('apache/kafka:3.9.1');
  expect(k.exposedPorts).toEqual([{ container: 9092, host: 39092 }]);
  expect(k.environment).toMatchObject({
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:39092',
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    KAFKA_LOG_DIRS: '/var/lib/kafka/data',
  });
});

test('PostgreSQL: postgres:16 through @testcontainers/postgresql, user postgres, database dasy', () => {
  const p = postgresContainer() as unknown as Inspectable & { username: string; password: string; database: string };
  expect(p.imageName.string).toBe('postgres:16');
  expect(p.exposedPorts).toEqual([5432]);
  // (the module turns these into POSTGRES_USER/PASSWORD/DB when the container starts)
  expect({ username: p.username, password: p.password, database: p.database }).toEqual({ username: 'postgres', password: 'postgres', database: 'dasy' });
});

test('docker-compose.yml runs the same Kafka, and its data lands in the mounted volume', () => {
  const compose = fs.readFileSync(path.join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8');
  expect(compose).toContain(`image: apache/kafka:3.9.1`);
  expect(compose).toContain(`image: postgres:16`);
  const logDirs = /KAFKA_LOG_DIRS: (\S+)/.exec(compose)?.[1];
  expect(logDirs).toBe(KAFKA_ENVIRONMENT.KAFKA_LOG_DIRS);
  expect(compose).toContain(`volumes: ['kafka-data:${logDirs}']`);
});
