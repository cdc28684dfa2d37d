import { createKafka } from '../libs/kafka/client';
import { ensureTopics, TOPICS } from '../libs/kafka/topics';
import { ConnectComparison, connectComparison, ConnectRun } from './connect';
import { Context, dataFile, median, namespace, say } from './context';
import { ensureFloor } from './ingest';
import { ConsumerRun, dropNamespace, migrateNamespace, ProducerRun, runConsumers, runProducer } from './pipeline';
import { Figure, figure, fmt, round } from './stats';

/** The producer alone (records/s), then the products consumers alone (messages/s/partition). */
export async function stagesWorkload(ctx: Context, rows: number) {
  const file = dataFile(rows);
  const floors = await ensureFloor(ctx, rows, file, ctx.options.runs);
  const produced: number[] = [];
  const consumed: number[] = [];
  const consumedTotal: number[] = [];
  const procs: { producer: ProducerRun['processes']; consumers: ConsumerRun['processes'] }[] = [];
  for (let i = 0; i < ctx.options.runs + ctx.options.warmups; i++) {
    const tag = i < ctx.options.warmups ? 'warm-up' : `run ${i - ctx.options.warmups + 1}/${ctx.options.runs}`;
    const ns = namespace(ctx);
    try {
      // topics and tables first, so that the producer's figure is not its first run's topic creation
      await migrateNamespace(ctx.bench, ns);
      await prepareNamespace(ctx, ns);
      say(`stages ${rows.toLocaleString('en-US')}: products-producer alone, ${tag}`);
      const p = await runProducer(ctx.bench, ctx.pool, ctx.pipelineDb, ns, file);
      say(`stages ${rows.toLocaleString('en-US')}: 2 products-consumers draining, ${tag}`);
      const c = await runConsumers(ctx.bench, ctx.pool, ctx.pipelineDb, ns, 2);
      say(
        `stages ${tag}: producer ${fmt(p.records / p.seconds)} records/s; consumers ${fmt(c.messages / c.seconds / c.partitions)} msg/s/partition (${c.seconds.toFixed(2)} s)`,
      );
      if (i >= ctx.options.warmups) {
        produced.push(p.records / p.seconds);
        consumed.push(c.messages / c.seconds / c.partitions);
        consumedTotal.push(c.messages / c.seconds);
        procs.push({ producer: p.processes, consumers: c.processes });
      }
    } finally {
      await dropNamespace(ctx.bench, ctx.pool, ns).catch(() => undefined);
    }
  }
  const copyRate = figure(
    'rows/s',
    floors.map((f) => rows / f.copySeconds),
  );
  const upsertRate = figure(
    'rows/s',
    floors.map((f) => rows / f.upsertSeconds),
  );
  const prod = figure('records/s', produced);
  const cons = figure('msg/s/partition', consumed);
  const consAll = figure('msg/s', consumedTotal);
  ctx.rows.push({
    workload: `producer alone ${rows.toLocaleString('en-US')}`,
    metric: 'records/s',
    value: prod,
    floor: copyRate,
    ratio: round(copyRate.median / prod.median, 2),
    note: 'floor: psql \\copy rows/s',
  });
  ctx.rows.push({ workload: `consumers alone (2 processes, ${TOPICS.products.partitions} partitions)`, metric: 'msg/s/partition', value: cons });
  ctx.rows.push({
    workload: '',
    metric: 'msg/s in all',
    value: consAll,
    floor: upsertRate,
    ratio: round(upsertRate.median / consAll.median, 2),
    note: 'floor: DISTINCT ON upsert rows/s',
  });
  ctx.results.stages = {
    rows,
    producer: prod,
    consumersPerPartition: cons,
    consumers: consAll,
    floorCopy: copyRate,
    floorUpsert: upsertRate,
    processes: procs,
    kafkaConnect: await compareWithConnect(ctx, file, { all: consAll, perPartition: cons, processes: procs.map((p) => p.consumers) }),
  };
}

/** dasy's products consumers in the same run, for the comparison */
interface DasyConsumers {
  all: Figure;
  perPartition: Figure;
  processes: ConsumerRun['processes'][];
}

/**
 * The same records drained by Kafka Connect's JDBC sink (issue #12: dasy's consumers stay at least
 * 2x it), once per measured run; no warm-up, as every Connect run is a fresh JVM anyway. A failure
 * is said and skipped: the comparison never fails the bench.
 */
async function compareWithConnect(ctx: Context, file: string, dasy: DasyConsumers): Promise<Record<string, unknown> | undefined> {
  let connect: ConnectComparison | undefined;
  try {
    connect = await connectComparison(ctx, file, ctx.options.runs);
  } catch (err) {
    say(`stages: the Kafka Connect comparison failed, skipped: ${(err as Error).message}`);
  }
  if (!connect) return undefined;
  const runs = connect.runs;
  const of = (unit: string, pick: (r: ConnectRun) => number) => figure(unit, runs.map(pick));
  const all = of('msg/s', (r) => r.recordsPerSecond);
  const perPartition = of('msg/s/partition', (r) => r.perPartition);
  const perTask = of('msg/s/task', (r) => r.perTask);
  const dasyPerProcess = dasy.all.median / 2; // its 2 products-consumer processes
  const ratio = round(dasy.all.median / all.median, 2);
  const consumers = dasy.processes.map((p) => p['products-consumer']).filter(Boolean);
  ctx.rows.push(
    {
      workload: `Kafka Connect JDBC sink (1 JVM, 2 tasks, ${TOPICS.products.partitions} partitions)`,
      metric: 'msg/s in all',
      value: all,
      ratio,
      note: connectNote(connect),
    },
    { workload: '', metric: 'msg/s/partition', value: perPartition, ratio: round(dasy.perPartition.median / perPartition.median, 2) },
    { workload: '', metric: 'msg/s/task', value: perTask, ratio: round(dasyPerProcess / perTask.median, 2), note: 'dasy: per consumer process' },
    { workload: '', metric: 'msg/s/process', value: all, ratio: round(dasyPerProcess / all.median, 2), note: "dasy's 2 processes against Connect's one JVM" },
    // startup is outside the rates, as dasy's consumers' start is outside theirs
    {
      workload: '',
      metric: 'startup (s)',
      value: of('s', (r) => r.startupSeconds),
      note: `JVM start to every partition assigned; to the first commit ${fmt(median(runs.map((r) => r.firstCommitSeconds)))} s`,
    },
    {
      workload: '',
      metric: 'CPU',
      value: of('s', (r) => r.cpuSeconds),
      note: `the JVM, start to caught up (drain alone ${fmt(median(runs.map((r) => r.drainCpuSeconds)))} s); dasy's 2 consumers: ${fmt(median(consumers.map((c) => c.cpuSeconds)))} s`,
    },
    {
      workload: '',
      metric: 'peak RSS',
      value: of('MB', (r) => r.peakRssMb),
      note: `dasy's consumers: ${fmt(Math.max(...consumers.map((c) => c.peakRssMb)))} MB at most each`,
    },
  );
  return { ...connect, recordsPerSecond: all, perPartition, perTask, ratio };
}

function connectNote(connect: ConnectComparison): string {
  const { kafkaConnect, debeziumJdbc } = connect.versions;
  const wrong = connect.runs.map((r) => r.check).find((c) => c.notLast > 0 || c.rows !== c.expectedRows);
  const check = wrong
    ? `; its table is WRONG: ${wrong.rows} rows for ${wrong.expectedRows} skus, ${wrong.notLast} of ${wrong.sampled} sampled skus not their last record`
    : '';
  return `ratio: dasy's consumers / this; Kafka Connect ${kafkaConnect} + Debezium JDBC sink ${debeziumJdbc}, upsert, 2 tasks${check}`;
}

async function prepareNamespace(ctx: Context, ns: string) {
  const kafka = createKafka({ brokers: ctx.config.kafkaBrokers, clientId: 'dasy-bench', logger: ctx.bench.logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, ns);
  } finally {
    await admin.disconnect();
  }
}
