import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { ROOT, TestEnv } from './harness';

/** Kafka's own jars, tools included (infra/kafka/pom.xml; `make up` and CI fetch them). */
export const KAFKA_LIBS = path.join(ROOT, '.stack', 'kafka-libs');

export interface GroupPartition {
  topic: string;
  partition: number;
  /** null: the group committed nothing for it ("-") */
  current: bigint | null;
  end: bigint;
  lag: bigint | null;
}

/**
 * `kafka-consumer-groups.sh --describe --group <group>`, as Kafka's own tool
 * (org.apache.kafka.tools.consumer.group.ConsumerGroupCommand) prints it, parsed; sorted by partition.
 */
export async function describeGroup(t: TestEnv, group: string): Promise<GroupPartition[]> {
  if (!fs.existsSync(path.join(KAFKA_LIBS, 'kafka-tools-3.9.1.jar')))
    throw new Error(`Kafka's tools are missing from ${KAFKA_LIBS}: run mvn -q -B -f infra/kafka/pom.xml dependency:copy-dependencies`);
  const { stdout } = await promisify(execFile)(
    'java',
    [
      '-cp',
      `${KAFKA_LIBS}/*`,
      'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
      '--bootstrap-server',
      t.config.kafkaBrokers.join(','),
      '--describe',
      '--group',
      group,
    ],
    { timeout: 60_000 },
  );
  const offset = (s: string) => (s === '-' ? null : BigInt(s));
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[0] === group)
    .map(([, topic, partition, current, end, lag]) => ({ topic, partition: Number(partition), current: offset(current), end: BigInt(end), lag: offset(lag) }))
    .sort((a, b) => a.partition - b.partition);
}
