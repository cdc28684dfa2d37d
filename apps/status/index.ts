import { Admin } from 'kafkajs';
import { DasyConfig } from '../../libs/config';
import { createPool, Pool } from '../../libs/db';
import { storedOffsets } from '../../libs/db/offsets';
import { createKafka } from '../../libs/kafka/client';
import { deadLetterTopic, endOffsets, groupId, topicName, TopicId } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { waitingNames } from '../product-count-producer';

/** Consumer groups whose lag `make status` shows: [topic, app]. Apps with consumers add theirs. */
export const STATUS_GROUPS: [TopicId, string][] = [
  ['products', 'products-consumer'],
  ['productCount', 'product-count-consumer'],
];

export const STATUS_TABLES = ['products', 'product_count'];

export interface StatusReport {
  namespace: string;
  groups: { group: string; topic: string; partitions: { partition: number; stored: string; end: string; lag: string }[]; lag: string }[];
  deadLetters: Record<string, string>;
  tables: Record<string, number | null>;
  outbox: number | null;
}

/** Per-partition lag of every consumer group (stored offsets in PostgreSQL vs the topic's end), and table row counts. */
export async function status(config: DasyConfig, logger: Logger): Promise<StatusReport> {
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-status', logger });
  const admin = kafka.admin();
  const pool = createPool({ databaseUrl: config.databaseUrl, max: 2 });
  await admin.connect();
  try {
    return await collectStatus({ admin, pool, namespace: config.namespace });
  } finally {
    await admin.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

/** The report from a connected admin and pool (the dashboard keeps both open). */
export async function collectStatus(deps: { admin: Admin; pool: Pool; namespace: string }): Promise<StatusReport> {
  const { admin, pool, namespace } = deps;
  const config = { namespace };
  {
    const existing = new Set(await admin.listTopics());
    const report: StatusReport = { namespace: config.namespace, groups: [], deadLetters: {}, tables: {}, outbox: null };
    const offsetsTable = await exists(pool, 'dasy_consumer_offsets');
    for (const [topicId, app] of STATUS_GROUPS) {
      const topic = topicName(config.namespace, topicId);
      if (!existing.has(topic)) continue;
      const group = groupId(config.namespace, app);
      const end = await endOffsets(admin, topic);
      const stored = offsetsTable ? await storedOffsets(pool, group, topic) : new Map<number, bigint>();
      let total = 0n;
      const partitions = [...end.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([partition, high]) => {
          const at = stored.get(partition) ?? 0n;
          const lag = high > at ? high - at : 0n;
          total += lag;
          return { partition, stored: at.toString(), end: high.toString(), lag: lag.toString() };
        });
      report.groups.push({ group, topic, partitions, lag: total.toString() });
      const dlq = deadLetterTopic(topic);
      if (existing.has(dlq)) {
        const d = await endOffsets(admin, dlq);
        report.deadLetters[dlq] = [...d.values()].reduce((a, b) => a + b, 0n).toString();
      }
    }
    for (const t of STATUS_TABLES) {
      report.tables[t] = (await exists(pool, t)) ? Number((await pool.query(`SELECT count(*) AS c FROM ${t}`)).rows[0].c) : null;
    }
    if (await exists(pool, 'product_count_outbox')) {
      report.outbox = await waitingNames(pool, config.namespace);
    }
    return report;
  }
}

async function exists(pool: Pool, table: string): Promise<boolean> {
  return (await pool.query('SELECT to_regclass($1) AS t', [table])).rows[0].t !== null;
}

export function formatStatus(r: StatusReport): string {
  const lines = [`namespace ${r.namespace}`];
  for (const g of r.groups) {
    lines.push(`group ${g.group} on ${g.topic}: lag ${g.lag}`);
    lines.push('  partition  stored        end           lag');
    for (const p of g.partitions) lines.push(`  ${String(p.partition).padEnd(9)}  ${p.stored.padEnd(12)}  ${p.end.padEnd(12)}  ${p.lag}`);
  }
  for (const [t, n] of Object.entries(r.deadLetters)) lines.push(`dead letters ${t}: ${n}`);
  for (const [t, n] of Object.entries(r.tables)) lines.push(`table ${t}: ${n === null ? 'missing (make create-migrations)' : n + ' rows'}`);
  if (r.outbox !== null) lines.push(`outbox (names to recount): ${r.outbox}`);
  if (!r.groups.length) lines.push('no topics yet for this namespace (run make ingest)');
  return lines.join('\n');
}
