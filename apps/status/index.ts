import { Admin } from '../../libs/kafka/port';
import { DasyConfig } from '../../libs/config';
import { deadLetterSummary } from '../../libs/consumer/dead-letters';
import { createPool, Pool } from '../../libs/db';
import { lastCommitted, storedOffsets } from '../../libs/db/offsets';
import { createKafka } from '../../libs/kafka/client';
import { deadLetterTopic, endOffsets, groupId, topicName } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { CONSUMERS } from '../components';
import { waitingNames } from '../product-count-producer';
import { quoteIdent } from '../../libs/db/identifiers';
import { storedSpecs } from '../../libs/dataset/schema';
import { DatasetSpec } from '../../libs/dataset/spec';
import { datasetGroups } from '../../libs/dataset/topics';
import { waitingMarks } from '../datasets/outbox';

export const STATUS_TABLES = ['products', 'product_count'];

/** A group with lag whose stored offsets did not move for this long is stalled, not lagging. */
export const STALLED_AFTER_MS = 30_000;

export interface GroupStatus {
  group: string;
  topic: string;
  partitions: { partition: number; stored: string; end: string; lag: string }[];
  lag: string;
  /** when it last committed a batch (ISO), null if never */
  lastCommitAt: string | null;
  /** one line: "caught up", "lagging N", "stalled since T" */
  verdict: string;
}

export interface StatusReport {
  namespace: string;
  groups: GroupStatus[];
  /** every consumer's dead-letter topic: messages in it, and the reason of the last one */
  deadLetters: Record<string, { messages: string; lastReason: string | null; lastAt: string | null }>;
  tables: Record<string, number | null>;
  outbox: number | null;
  /** each declared dataset's marks waiting in its outbox (groups to recount) */
  datasetOutbox: Record<string, number>;
}

/** Per-partition lag of every consumer group (stored offsets in PostgreSQL vs the topic's end), dead letters, table row counts. */
export async function status(config: DasyConfig, logger: Logger, options: { dataset?: DatasetSpec } = {}): Promise<StatusReport> {
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-status', logger });
  const admin = kafka.admin();
  const pool = createPool({ databaseUrl: config.databaseUrl, namespace: config.namespace, max: 2, idleInTransactionMs: config.pgIdleInTransactionMs });
  await admin.connect();
  try {
    return await collectStatus({ admin, pool, namespace: config.namespace, dataset: options.dataset });
  } finally {
    await admin.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

/**
 * The report from a connected admin and pool (the dashboard keeps both open). Groups and
 * dead-letter topics come from apps/components.ts and from every declared dataset applied to the
 * namespace (dasy_datasets); with `dataset`, that dataset's alone.
 */
export async function collectStatus(deps: { admin: Admin; pool: Pool; namespace: string; now?: number; dataset?: DatasetSpec }): Promise<StatusReport> {
  const { admin, pool, namespace } = deps;
  const existing = new Set(await admin.listTopics());
  const report: StatusReport = { namespace, groups: [], deadLetters: {}, tables: {}, outbox: null, datasetOutbox: {} };
  const withOffsets = await exists(pool, 'dasy_consumer_offsets');
  const dead = (await exists(pool, 'dasy_dead_letters')) ? await deadLetterSummary(pool) : new Map<string, { lastReason: string; lastAt: Date }>();
  const datasets = deps.dataset ? [deps.dataset] : (await exists(pool, 'dasy_datasets')) ? await storedSpecs(pool) : [];
  const products = deps.dataset
    ? []
    : CONSUMERS.map(({ consumes }) => ({ group: groupId(namespace, consumes.group), topic: topicName(namespace, consumes.topic) }));
  for (const { group, topic } of [...products, ...datasets.flatMap((d) => datasetGroups(namespace, d))]) {
    if (!existing.has(topic)) continue;
    report.groups.push(await groupStatus(admin, withOffsets ? pool : undefined, group, topic, deps.now ?? Date.now()));
    const dlq = deadLetterTopic(topic);
    if (!existing.has(dlq)) continue;
    const messages = [...(await endOffsets(admin, dlq)).values()].reduce((a, b) => a + b, 0n);
    const last = dead.get(dlq);
    report.deadLetters[dlq] = { messages: messages.toString(), lastReason: last?.lastReason ?? null, lastAt: last?.lastAt.toISOString() ?? null };
  }
  const tables = [...(deps.dataset ? [] : STATUS_TABLES), ...datasets.flatMap((d) => [d.name, ...d.aggregates.map((a) => a.name)])];
  for (const t of tables)
    report.tables[t] = (await exists(pool, quoteIdent(t)))
      ? Number((await pool.query<{ c: string }>(`SELECT count(*) AS c FROM ${quoteIdent(t)}`)).rows[0].c)
      : null;
  if (!deps.dataset && (await exists(pool, 'product_count_outbox'))) report.outbox = await waitingNames(pool, namespace);
  for (const d of datasets) report.datasetOutbox[d.name] = await waitingMarks(pool, d);
  return report;
}

async function groupStatus(admin: Admin, pool: Pool | undefined, group: string, topic: string, now: number): Promise<GroupStatus> {
  const end = await endOffsets(admin, topic);
  const stored = pool ? await storedOffsets(pool, group, topic) : new Map<number, bigint>();
  const last = pool ? await lastCommitted(pool, group, topic) : null;
  let total = 0n;
  const partitions = [...end.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([partition, high]) => {
      const at = stored.get(partition) ?? 0n;
      const lag = high > at ? high - at : 0n;
      total += lag;
      return { partition, stored: at.toString(), end: high.toString(), lag: lag.toString() };
    });
  return { group, topic, partitions, lag: total.toString(), lastCommitAt: last?.toISOString() ?? null, verdict: verdict(total, last, now) };
}

/** caught up / lagging N / stalled since T (lag, and no batch committed for STALLED_AFTER_MS). */
export function verdict(lag: bigint, lastCommit: Date | null, now: number): string {
  if (lag === 0n) return 'caught up';
  if (lastCommit && now - lastCommit.getTime() < STALLED_AFTER_MS) return `lagging ${lag}`;
  return lastCommit ? `stalled since ${lastCommit.toISOString()} (lag ${lag})` : `stalled: nothing applied yet (lag ${lag})`;
}

async function exists(pool: Pool, table: string): Promise<boolean> {
  return (await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table])).rows[0].t !== null;
}

export function formatStatus(r: StatusReport): string {
  const lines = [`namespace ${r.namespace}`];
  for (const g of r.groups) {
    lines.push(`group ${g.group} on ${g.topic}: ${g.verdict}`);
    lines.push('  partition  stored        end           lag');
    for (const p of g.partitions) lines.push(`  ${String(p.partition).padEnd(9)}  ${p.stored.padEnd(12)}  ${p.end.padEnd(12)}  ${p.lag}`);
  }
  for (const [t, d] of Object.entries(r.deadLetters))
    lines.push(`dead letters ${t}: ${d.messages}${d.lastReason ? ` (last: ${d.lastReason}, at ${d.lastAt})` : ''}`);
  for (const [t, n] of Object.entries(r.tables)) lines.push(`table ${t}: ${n === null ? 'missing (make create-migrations)' : n + ' rows'}`);
  if (r.outbox !== null) lines.push(`outbox (names to recount): ${r.outbox}`);
  for (const [d, n] of Object.entries(r.datasetOutbox)) lines.push(`outbox of ${d} (groups to recount): ${n}`);
  if (!r.groups.length) lines.push('no topics yet for this namespace (run make ingest)');
  return lines.join('\n');
}
