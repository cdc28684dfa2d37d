import { createKafka } from '../libs/kafka/client';
import { ensureTopics, TOPICS } from '../libs/kafka/topics';
import { Context, dataFile, namespace, say } from './context';
import { ensureFloor } from './ingest';
import { dropNamespace, migrateNamespace, runConsumers, runProducer } from './pipeline';
import { figure, fmt, round } from './stats';

/** The producer alone (records/s), then the products consumers alone (messages/s/partition). */
export async function stagesWorkload(ctx: Context, rows: number) {
  const file = dataFile(rows);
  const floors = await ensureFloor(ctx, rows, file, ctx.options.runs);
  const produced: number[] = [];
  const consumed: number[] = [];
  const consumedTotal: number[] = [];
  const procs: Record<string, unknown>[] = [];
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
  };
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
