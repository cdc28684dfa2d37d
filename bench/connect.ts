import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Admin, AssignerProtocol, Kafka } from 'kafkajs';
import { readProductsFile } from '../libs/csv/reader';
import { quoteIdent } from '../libs/db';
import { createKafka } from '../libs/kafka/client';
import { createProducer } from '../libs/kafka/producer';
import { endOffsets, MAX_MESSAGE_BYTES, TOPICS } from '../libs/kafka/topics';
import { sleep } from '../libs/runtime';
import { Context, namespace, say } from './context';
import { backendTracker, liveChildren } from './pipeline';
import { byLabel, findKafkaPid, ProcSampler } from './proc';
import { round } from './stats';

/**
 * The bench's comparison with Kafka Connect (issue #12): the products file as records Connect's
 * JsonConverter reads, in a topic of as many partitions as dasy's products topic, drained by a
 * standalone Connect worker running the Debezium JDBC sink in upsert mode with 2 tasks (as dasy
 * runs 2 products-consumers) into a table with the primary key and nothing else.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const LIBS = path.join(ROOT, '.stack', 'connect-libs');
const POM = path.join(ROOT, 'infra', 'connect', 'pom.xml');
const TASKS = 2;
const PARTITIONS = TOPICS.products.partitions;
/** the jars Connect and the sink need, by file name prefix (their versions are the pom's) */
const NEEDED = ['connect-runtime-', 'connect-json-', 'debezium-connector-jdbc-', 'postgresql-'];
/** one sku in this many is kept with its last record, to check that the last one won */
const SAMPLE_EVERY = 16;

export interface ConnectRun {
  records: number;
  /** drain: every partition assigned to the caught-up commit */
  seconds: number;
  recordsPerSecond: number;
  perTask: number;
  perPartition: number;
  /** JVM start to every partition assigned (plugin scanning, group join) */
  startupSeconds: number;
  /** JVM start to the first committed offset */
  firstCommitSeconds: number;
  /** JVM start to caught up */
  totalSeconds: number;
  /** Connect's JVM, start to caught up; drainCpuSeconds: from every partition assigned */
  cpuSeconds: number;
  drainCpuSeconds: number;
  peakRssMb: number;
  processes: ReturnType<typeof byLabel>;
  check: TableCheck;
}

export interface ConnectComparison {
  versions: { kafkaConnect: string; debeziumJdbc: string; postgresql: string };
  produceSeconds: number;
  runs: ConnectRun[];
}

/** What the file holds, to check the table against. */
interface Expected {
  records: number;
  distinct: number;
  /** sampled skus: the last record of each in file order, and how often the sku occurs */
  sample: Map<string, { name: string; description: string; times: number }>;
}

export interface TableCheck {
  rows: number;
  /** distinct skus in the file: the rows the table must have */
  expectedRows: number;
  sampled: number;
  /** sampled skus that occur more than once in the file (where the last record must win) */
  sampledRepeated: number;
  /** sampled skus whose row is not their last record */
  notLast: number;
}

/**
 * `runs` Connect sink runs over the records of `file`, produced once into a topic of their own
 * (untimed). Undefined, with one line said, when Connect's jars or Java are not to be had.
 */
export async function connectComparison(ctx: Context, file: string, runs: number): Promise<ConnectComparison | undefined> {
  if (!connectLibsReady()) return undefined;
  const topic = `${namespace(ctx)}.connect-products`;
  const kafka = createKafka({ brokers: ctx.config.kafkaBrokers, clientId: 'dasy-bench', logger: ctx.bench.logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    say(`stages: producing ${path.basename(file)} as Kafka Connect JSON records (not timed)`);
    const started = process.hrtime.bigint();
    const expected = await produceConnectRecords(kafka, admin, topic, file);
    const produceSeconds = round(Number(process.hrtime.bigint() - started) / 1e9, 2);
    const done: ConnectRun[] = [];
    for (let i = 0; i < runs; i++) {
      say(`stages: Kafka Connect JDBC sink (${TASKS} tasks) draining ${expected.records.toLocaleString('en-US')} records, run ${i + 1}/${runs}`);
      done.push(await connectSinkRun(ctx, admin, topic, expected));
    }
    return { versions: connectVersions(), produceSeconds, runs: done };
  } finally {
    await admin.deleteTopics({ topics: [topic], timeout: 30000 }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** The jars in .stack/connect-libs, fetched with Maven when missing; false (said once) if they cannot be. */
function connectLibsReady(): boolean {
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (java.error || java.status !== 0) {
    say('stages: no java here; skipping the Kafka Connect comparison');
    return false;
  }
  if (haveLibs()) return true;
  say(`stages: fetching Kafka Connect and the Debezium JDBC sink (mvn -f ${path.relative(ROOT, POM)} dependency:copy-dependencies)`);
  const mvn = spawnSync('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (mvn.error || mvn.status !== 0 || !haveLibs()) {
    const why = mvn.error ? mvn.error.message : (mvn.stderr || '').trim().split('\n').pop();
    say(`stages: could not fetch Kafka Connect's jars (${why || `mvn exited ${mvn.status}`}); skipping the Kafka Connect comparison`);
    return false;
  }
  return true;
}

function haveLibs(): boolean {
  const jars = fs.existsSync(LIBS) ? fs.readdirSync(LIBS) : [];
  return NEEDED.every((prefix) => jars.some((j) => j.startsWith(prefix) && j.endsWith('.jar')));
}

function connectVersions(): ConnectComparison['versions'] {
  const jars = fs.readdirSync(LIBS);
  const version = (prefix: string) => jars.find((j) => j.startsWith(prefix))?.slice(prefix.length, -'.jar'.length) ?? '?';
  return { kafkaConnect: version('connect-runtime-'), debeziumJdbc: version('debezium-connector-jdbc-'), postgresql: version('postgresql-') };
}

// JsonConverter with schemas enabled: every record carries its schema beside its payload
const KEY_HEAD = `{"schema":${JSON.stringify({ type: 'struct', optional: false, fields: [{ field: 'sku', type: 'string', optional: false }] })},"payload":`;
const VALUE_HEAD = `{"schema":${JSON.stringify({
  type: 'struct',
  optional: false,
  fields: [
    { field: 'sku', type: 'string', optional: false },
    { field: 'name', type: 'string', optional: false },
    { field: 'description', type: 'string', optional: true },
  ],
})},"payload":`;

/** A topic of dasy's products partition count, the file's records produced into it, what the table must then hold. */
async function produceConnectRecords(kafka: Kafka, admin: Admin, topic: string, file: string): Promise<Expected> {
  const replicationFactor = Math.min(3, (await admin.describeCluster()).brokers.length);
  await admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor, configEntries: [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }] }],
    waitForLeaders: true,
  });
  const producer = createProducer(kafka);
  await producer.connect();
  const skus = new Set<string>();
  const sample: Expected['sample'] = new Map();
  let pending: { key: string; value: string }[] = [];
  const send = async () => {
    const messages = pending;
    pending = [];
    if (messages.length) await producer.send({ topic, messages });
  };
  try {
    const { records } = await readProductsFile(
      file,
      {
        product: ({ sku, name, description }) => {
          skus.add(sku);
          if (sampled(sku)) sample.set(sku, { name, description, times: (sample.get(sku)?.times ?? 0) + 1 });
          pending.push({ key: `${KEY_HEAD}${JSON.stringify({ sku })}}`, value: `${VALUE_HEAD}${JSON.stringify({ sku, name, description })}}` });
        },
        reject: () => undefined,
      },
      send, // a chunk's records at a time (1 MiB of CSV): the producer's pace holds the reading back
    );
    await send();
    return { records, distinct: skus.size, sample };
  } finally {
    await producer.disconnect();
  }
}

/** One sku in SAMPLE_EVERY, by a hash of the sku (the same skus whatever the file order). */
function sampled(sku: string): boolean {
  let h = 0;
  for (let i = 0; i < sku.length; i++) h = (Math.imul(h, 31) + sku.charCodeAt(i)) | 0;
  return (h >>> 0) % SAMPLE_EVERY === 0;
}

/** One standalone Connect worker from JVM start to caught up, its table checked, then everything it made removed. */
export async function connectSinkRun(ctx: Context, admin: Admin, topic: string, expected: Expected): Promise<ConnectRun> {
  // the schema doubles as the connector's name: the sink's consumer group (connect-<name>) is new each run
  const schema = namespace(ctx)
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dasy-connect-'));
  await ctx.pool.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  try {
    await ctx.pool.query(`CREATE TABLE ${quoteIdent(schema)}.products (sku text PRIMARY KEY, name text NOT NULL, description text)`);
    writeConnectConfig(dir, ctx.bench.databaseUrl, ctx.config.kafkaBrokers, topic, schema);
    const end = await endOffsets(admin, topic);
    const timed = await timeConnect(ctx, admin, dir, { topic, group: `connect-${schema}`, end });
    const check = await checkTable(ctx, schema, expected);
    const records = Number([...end.values()].reduce((a, b) => a + b, 0n));
    const recordsPerSecond = records / timed.seconds;
    return {
      records,
      ...timed,
      recordsPerSecond: round(recordsPerSecond),
      perTask: round(recordsPerSecond / TASKS),
      perPartition: round(recordsPerSecond / PARTITIONS),
      check,
    };
  } finally {
    await ctx.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** worker.properties, sink.properties and log4j.properties in `dir`. */
function writeConnectConfig(dir: string, databaseUrl: string, brokers: string[], topic: string, schema: string): void {
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

interface Timed {
  seconds: number;
  startupSeconds: number;
  firstCommitSeconds: number;
  totalSeconds: number;
  cpuSeconds: number;
  drainCpuSeconds: number;
  peakRssMb: number;
  processes: ReturnType<typeof byLabel>;
}

/** Start Connect, time it to caught up with its processes sampled, stop it. */
async function timeConnect(ctx: Context, admin: Admin, dir: string, target: Target): Promise<Timed> {
  const kafkaPid = findKafkaPid();
  const backends = backendTracker(ctx.pool, ctx.pipelineDb);
  const started = process.hrtime.bigint();
  const connect = startConnect(dir);
  const label = (pid: number) => (pid === connect.child.pid ? 'kafka-connect' : backends.label(pid));
  const sampler = new ProcSampler(connect.child.pid!, () => [...backends.pids(), ...(kafkaPid ? [kafkaPid] : [])], 200, label).start();
  const since = () => Number(process.hrtime.bigint() - started) / 1e9;
  let drain: ProcSampler | undefined;
  try {
    // the drain starts once every partition is assigned, as runConsumers's does: JVM start and plugin loading are startupSeconds
    await untilAssigned(admin, target, connect);
    const startupSeconds = since();
    // the drain's CPU: Connect's pid as an "other" process of a sampler with no tree of its own, counted from now on
    drain = new ProcSampler(-1, () => [connect.child.pid!]).start();
    const firstCommitSeconds = await untilCaughtUp(admin, target, connect, since);
    const totalSeconds = since();
    sampler.sample();
    drain.sample();
    const processes = byLabel(sampler.stop());
    const jvm = processes['kafka-connect'] ?? { cpuSeconds: NaN, peakRssMb: NaN };
    const drainCpu = drain.stop()[0]?.cpuSeconds ?? NaN;
    const seconds = totalSeconds - startupSeconds;
    return {
      seconds: round(seconds),
      startupSeconds: round(startupSeconds, 2),
      firstCommitSeconds: round(firstCommitSeconds, 2),
      totalSeconds: round(totalSeconds, 2),
      cpuSeconds: jvm.cpuSeconds,
      drainCpuSeconds: round(drainCpu, 2),
      peakRssMb: jvm.peakRssMb,
      processes,
    };
  } finally {
    sampler.stop();
    drain?.stop();
    await stopConnect(connect.child);
    await backends.stop();
  }
}

interface Target {
  topic: string;
  group: string;
  /** the topic's end offsets before Connect starts */
  end: Map<number, bigint>;
}

interface RunningConnect {
  child: ChildProcess;
  /** Connect's last lines on stderr (WARN and up) */
  tail: string[];
  /** why the run cannot succeed (Connect exited) */
  failure?: string;
}

function startConnect(dir: string): RunningConnect {
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

function failed(connect: RunningConnect): Error | undefined {
  if (!connect.failure) return undefined;
  return new Error(`Kafka Connect run failed: ${connect.failure}: ${connect.tail.slice(-5).join(' | ')}`);
}

/** Until the sink's group has spread every partition among its members (runConsumers's start point). */
async function untilAssigned(admin: Admin, target: Target, connect: RunningConnect, timeoutMs = 120000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const err = failed(connect);
    if (err) throw err;
    const { groups } = await admin.describeGroups([target.group]);
    const group = groups[0];
    if (group?.state === 'Stable') {
      const partitions = group.members.flatMap((m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[target.topic] ?? []);
      if (partitions.length === PARTITIONS && new Set(partitions).size === PARTITIONS) return;
    }
    if (Date.now() > deadline) throw new Error(`Kafka Connect's sink group ${target.group} has no full assignment after ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

/**
 * Until the group's committed offsets reach the end offsets; returns when the first offset was
 * committed (seconds since JVM start). Fails when nothing moves for `stallMs`.
 */
async function untilCaughtUp(admin: Admin, target: Target, connect: RunningConnect, since: () => number, stallMs = 60000): Promise<number> {
  let firstCommit = NaN;
  let lastLag = -1n;
  let movedAt = Date.now();
  for (;;) {
    const err = failed(connect);
    if (err) throw err;
    const [offsets] = await admin.fetchOffsets({ groupId: target.group, topics: [target.topic] });
    const committed = new Map((offsets?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    let lag = 0n;
    for (const [p, high] of target.end) lag += high - (committed.get(p) ?? 0n) > 0n ? high - (committed.get(p) ?? 0n) : 0n;
    if (Number.isNaN(firstCommit) && [...committed.values()].some((o) => o > 0n)) firstCommit = since();
    if (lag === 0n) return firstCommit;
    if (lag !== lastLag) [lastLag, movedAt] = [lag, Date.now()];
    if (Date.now() - movedAt > stallMs)
      throw new Error(`Kafka Connect's sink made no progress for ${stallMs / 1000} s (lag ${lag}): ${connect.tail.slice(-5).join(' | ')}`);
    await sleep(20);
  }
}

/** SIGTERM (Connect stops its tasks and closes), SIGKILL if it has not exited after `graceMs`. */
async function stopConnect(child: ChildProcess, graceMs = 15000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  liveChildren.delete(child);
}

/** Rows against the file's distinct skus, and the sampled skus' rows against their last record. */
async function checkTable(ctx: Context, schema: string, expected: Expected): Promise<TableCheck> {
  const table = `${quoteIdent(schema)}.products`;
  const counts = await ctx.pool.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${table}`);
  const skus = [...expected.sample.keys()];
  const last = [...expected.sample.values()];
  const wrong = await ctx.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM unnest($1::text[], $2::text[], $3::text[]) AS f(sku, name, description)
       LEFT JOIN ${table} p USING (sku)
      WHERE p.sku IS NULL OR p.name <> f.name OR p.description IS DISTINCT FROM f.description`,
    [skus, last.map((l) => l.name), last.map((l) => l.description)],
  );
  const check: TableCheck = {
    rows: Number(counts.rows[0].rows),
    expectedRows: expected.distinct,
    sampled: skus.length,
    sampledRepeated: last.filter((l) => l.times > 1).length,
    notLast: Number(wrong.rows[0].n),
  };
  if (check.rows !== check.expectedRows || check.notLast > 0)
    say(`stages: Kafka Connect's table is not the file's last record per sku: ${JSON.stringify(check)}`);
  return check;
}
