import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { TOPICS } from '../../libs/kafka/topics';
import { liveChildren } from '../pipeline';
import { LIBS } from './jars';

/** as many tasks as dasy runs products-consumers, on a topic of as many partitions as dasy's products topic */
export const TASKS = 2;
export const PARTITIONS = TOPICS.products.partitions;

/** worker.properties, sink.properties and log4j.properties in `dir`. */
export function writeConnectConfig(dir: string, databaseUrl: string, brokers: string[], topic: string, schema: string): void {
  const db = new URL(databaseUrl);
  const properties = (entries: Record<string, string | number>) =>
    Object.entries(entries)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n';
  fs.writeFileSync(
    path.join(dir, 'worker.properties'),
    properties({
      'bootstrap.servers': brokers.join(','),
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'true',
      'value.converter.schemas.enable': 'true',
      'offset.storage.file.filename': path.join(dir, 'connect.offsets'),
      // a sink commits its offsets every offset.flush.interval.ms (60 s by default): 100 ms, so
      // the committed offsets trail the rows by no more than that (dasy's are in the rows' transaction)
      'offset.flush.interval.ms': 100,
      'consumer.auto.offset.reset': 'earliest',
      // the connectors on the classpath declare themselves (META-INF/services): no reflective scan
      'plugin.discovery': 'service_load',
      listeners: 'http://127.0.0.1:0', // any free port: the REST API is not used
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'sink.properties'),
    properties({
      name: schema,
      'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
      'tasks.max': TASKS,
      topics: topic,
      'connection.url': `jdbc:postgresql://${db.hostname}:${db.port || 5432}${db.pathname}?ApplicationName=kafka-connect`,
      'connection.username': decodeURIComponent(db.username) || 'postgres',
      'connection.password': decodeURIComponent(db.password),
      'insert.mode': 'upsert',
      'primary.key.mode': 'record_key',
      'primary.key.fields': 'sku',
      'schema.evolution': 'none',
      'delete.enabled': 'false',
      'collection.name.format': `${schema}.products`,
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'log4j.properties'),
    properties({
      'log4j.rootLogger': 'WARN, stderr',
      'log4j.appender.stderr': 'org.apache.log4j.ConsoleAppender',
      'log4j.appender.stderr.Target': 'System.err',
      'log4j.appender.stderr.layout': 'org.apache.log4j.PatternLayout',
      'log4j.appender.stderr.layout.ConversionPattern': '[%d] %p %m (%c)%n',
    }),
  );
}

export interface RunningConnect {
  child: ChildProcess;
  /** Connect's last lines on stderr (WARN and up) */
  tail: string[];
  /** why the run cannot succeed (Connect exited) */
  failure?: string;
}

export function startConnect(dir: string): RunningConnect {
  const child = spawn(
    'java',
    [
      // connect-standalone.sh's heap and JVM options
      '-Xms256M',
      '-Xmx2G',
      '-server',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:InitiatingHeapOccupancyPercent=35',
      '-XX:+ExplicitGCInvokesConcurrent',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`,
      '-cp',
      path.join(LIBS, '*'),
      'org.apache.kafka.connect.cli.ConnectStandalone',
      path.join(dir, 'worker.properties'),
      path.join(dir, 'sink.properties'),
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  liveChildren.add(child);
  const running: RunningConnect = { child, tail: [] };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    // a task that dies leaves Connect running: the stall timeout of untilCaughtUp ends the run, with this tail
    running.tail = [...running.tail, ...d.split('\n').filter(Boolean)].slice(-20);
  });
  child.on('exit', (code, signal) => (running.failure ??= `Kafka Connect exited (${code ?? signal})`));
  return running;
}

export function failed(connect: RunningConnect): Error | undefined {
  if (!connect.failure) return undefined;
  return new Error(`Kafka Connect run failed: ${connect.failure}: ${connect.tail.slice(-5).join(' | ')}`);
}

/** SIGTERM (Connect stops its tasks and closes), SIGKILL if it has not exited after `graceMs`. */
export async function stopConnect(child: ChildProcess, graceMs = 15000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  liveChildren.delete(child);
}
