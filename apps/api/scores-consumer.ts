import { PoolClient } from 'pg';
import { BatchApp, BatchInfo, DeadLetter } from '../../libs/consumer';
import { numbersLiteral, textsLiteral } from '../../libs/db/array-literal';
import { EMPTY, Moments, toDecimal, welford } from '../../libs/stats';
import { AppliedBatch, appliedChannel, appliedPayload, PROCESS_ORIGIN } from './applied-channel';
import { decodeScore, ScoreItem } from './messages';
import { admitRequests, isAdmitted, MessageRequest } from './score-requests';
import { CurrentStats, currentStats, CurrentStatsRow } from './store';

/** Statistics of a run of pushes, with the time span they cover. */
interface Agg {
  m: Moments;
  first: number;
  last: number;
}

function add(agg: Agg | undefined, score: number, at: number): Agg {
  if (!agg) return { m: welford(EMPTY, score), first: at, last: at };
  return { m: welford(agg.m, score), first: Math.min(agg.first, at), last: Math.max(agg.last, at) };
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Chan's merge of a batch's per-key summaries into the stored rows, exactly: the sums of the
 * scores and of their squares are numeric (exact decimals of binary fractions, libs/stats), so
 * merging is adding them, with no rounding and nothing that can underflow (float8 products such as
 * (mb - ma)^2 * na * nb / n underflowed for scores near 1e-170 and PostgreSQL refused the batch).
 * Every right-hand side reads the row as it was (UPDATE semantics); min, max, first and last
 * combine as such.
 */
const CHAN_MERGE = `
      count = s.count + excluded.count,
      sum = s.sum + excluded.sum,
      sum_sq = s.sum_sq + excluded.sum_sq,
      min = LEAST(s.min, excluded.min),
      max = GREATEST(s.max, excluded.max),
      first_at = LEAST(s.first_at, excluded.first_at),
      last_at = GREATEST(s.last_at, excluded.last_at)`;

const RETURN_STATS = 'RETURNING s.name, s.session, s.count, s.sum, s.sum_sq, s.min, s.max, s.first_at, s.last_at, s.started_offset';

/**
 * Times travel as milliseconds since the epoch (float8) and become timestamptz in SQL: formatting
 * an ISO string per push was a visible share of the consumer's CPU. ms / 1000 is exact to the
 * microsecond, to_timestamp's precision.
 */
const ts = (column: string) => `to_timestamp(${column} / 1000)`;

/** Parameters $1.. numbered from `base`. */
const params = (base: number, types: string[]) => types.map((t, i) => `$${base + i}::${t}`).join(', ');

/** 8 parameters: name, count, sum, sum_sq, min, max, first_at, last_at per name (sorted: stable lock order). */
const mergeStats = (base: number) => `INSERT INTO score_stats AS s (name, session, count, sum, sum_sq, min, max, first_at, last_at, started_at)
    SELECT b.name, 1, b.count, b.sum, b.sum_sq, b.min, b.max, ${ts('b.first_at')}, ${ts('b.last_at')}, ${ts('b.first_at')}
      FROM unnest(${params(base, ['text[]', 'bigint[]', 'numeric[]', 'numeric[]', 'float8[]', 'float8[]', 'float8[]', 'float8[]'])})
        AS b(name, count, sum, sum_sq, min, max, first_at, last_at)
     ORDER BY 1
    ON CONFLICT (name) DO UPDATE SET ${CHAN_MERGE}
    ${RETURN_STATS}`;

/** 9 parameters: name, minute, count, sum, sum_sq, min, max, first_at, last_at per (name, minute). */
const mergeBuckets = (base: number) => `INSERT INTO score_buckets AS s (name, minute, count, sum, sum_sq, min, max, first_at, last_at)
    SELECT b.name, ${ts('b.minute')}, b.count, b.sum, b.sum_sq, b.min, b.max, ${ts('b.first_at')}, ${ts('b.last_at')}
      FROM unnest(${params(base, ['text[]', 'float8[]', 'bigint[]', 'numeric[]', 'numeric[]', 'float8[]', 'float8[]', 'float8[]', 'float8[]'])})
        AS b(name, minute, count, sum, sum_sq, min, max, first_at, last_at)
     ORDER BY 1, 2
    ON CONFLICT (name, minute) DO UPDATE SET ${CHAN_MERGE}`;

/** 6 parameters: name, score, username, at, offset, partition per push. */
const audit = (base: number) => `INSERT INTO score_pushes (name, score, username, pushed_at, kafka_partition, kafka_offset)
    SELECT a.name, a.score, a.username, ${ts('a.at')}, a.part, a.off
      FROM unnest(${params(base, ['text[]', 'float8[]', 'text[]', 'float8[]', 'bigint[]', 'integer[]'])}) AS a(name, score, username, at, off, part)`;

/**
 * A batch without resets, in one round trip: current sessions, minute buckets and audit rows in
 * one statement (data-modifying CTEs; empty audit arrays insert nothing), returning the new current
 * statistics; the pg_notify of each applied offset (one per partition of the batches) is evaluated
 * once with it (an uncorrelated subquery), delivered on commit.
 */
const APPLY_PUSHES = `WITH s AS (${mergeStats(1)}),
    b AS (${mergeBuckets(9)}),
    a AS (${audit(18)})
    SELECT s.*, (SELECT count(pg_notify($24, n)) FROM unnest($25::text[]) AS n) AS notified FROM s`;

/** Close the current session of each name (final statistics into score_sessions), open the next. */
const RESET = `WITH r AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[]) AS r(name, reset_by, at, off)),
    ended AS (
      INSERT INTO score_sessions (name, session, count, sum, sum_sq, min, max, first_at, last_at, started_at, ended_at, reset_by, reset_partition, reset_offset)
      SELECT s.name, s.session, s.count, s.sum, s.sum_sq, s.min, s.max, s.first_at, s.last_at, s.started_at, r.at, r.reset_by, $5, r.off
        FROM score_stats s JOIN r ON r.name = s.name)
    UPDATE score_stats s
       SET session = s.session + 1, count = 0, sum = 0, sum_sq = 0, min = NULL, max = NULL, first_at = NULL, last_at = NULL,
           started_at = r.at, started_offset = r.off
      FROM r WHERE s.name = r.name
    ${RETURN_STATS}`;

function statsParams(segments: Map<string, Agg>): unknown[] {
  const rows = [...segments];
  return [
    textsLiteral(rows.map(([name]) => name)),
    numbersLiteral(rows.map(([, a]) => a.m.count)),
    numbersLiteral(rows.map(([, a]) => toDecimal(a.m.sum))),
    numbersLiteral(rows.map(([, a]) => toDecimal(a.m.sumSq))),
    numbersLiteral(rows.map(([, a]) => a.m.min)),
    numbersLiteral(rows.map(([, a]) => a.m.max)),
    numbersLiteral(rows.map(([, a]) => a.first)),
    numbersLiteral(rows.map(([, a]) => a.last)),
  ];
}

function bucketParams(buckets: Map<string, { name: string; minute: number; agg: Agg }>): unknown[] {
  const rows = [...buckets.values()];
  return [
    textsLiteral(rows.map((b) => b.name)),
    numbersLiteral(rows.map((b) => b.minute)),
    numbersLiteral(rows.map((b) => b.agg.m.count)),
    numbersLiteral(rows.map((b) => toDecimal(b.agg.m.sum))),
    numbersLiteral(rows.map((b) => toDecimal(b.agg.m.sumSq))),
    numbersLiteral(rows.map((b) => b.agg.m.min)),
    numbersLiteral(rows.map((b) => b.agg.m.max)),
    numbersLiteral(rows.map((b) => b.agg.first)),
    numbersLiteral(rows.map((b) => b.agg.last)),
  ];
}

function auditParams(pushes: (ScoreItem & { type: 'push' })[], partitionOf: (i: number) => number): unknown[] {
  return [
    textsLiteral(pushes.map((p) => p.name)),
    numbersLiteral(pushes.map((p) => p.score)),
    textsLiteral(pushes.map((p) => p.username)),
    numbersLiteral(pushes.map((p) => p.at)),
    numbersLiteral(pushes.map((p) => p.offset)),
    numbersLiteral(pushes.map((_, i) => partitionOf(i))),
  ];
}

/**
 * Pushes of several partitions (no resets among them), in one statement: names live in one
 * partition each, so their summaries do not interact; a name met in two of them would still be
 * merged exactly (Chan). Returns the current statistics of every name touched.
 */
export async function applyPushesTogether(
  client: PoolClient,
  batches: { items: ScoreItem[]; batch: { partition: number; nextOffset: bigint } }[],
  options: { audit: boolean; channel: string },
): Promise<Map<string, CurrentStats>> {
  const segments = new Map<string, Agg>();
  const buckets = new Map<string, { name: string; minute: number; agg: Agg }>();
  const pushes: (ScoreItem & { type: 'push' })[] = [];
  const partitions: number[] = [];
  for (const { items, batch } of batches) {
    for (const item of items) {
      if (item.type !== 'push') throw new Error('applyPushesTogether: a reset among the items');
      segments.set(item.name, add(segments.get(item.name), item.score, item.at));
      const minute = Math.floor(item.at / 60000) * 60000;
      const bk = `${minute}\u0000${item.name}`;
      buckets.set(bk, { name: item.name, minute, agg: add(buckets.get(bk)?.agg, item.score, item.at) });
      if (options.audit) {
        pushes.push(item);
        partitions.push(batch.partition);
      }
    }
  }
  const notify = batches.map(({ batch }) => appliedPayload(batch.partition, batch.nextOffset, PROCESS_ORIGIN));
  const { rows } = await client.query<CurrentStatsRow>({
    name: 'dasy-scores-apply',
    text: APPLY_PUSHES,
    values: [...statsParams(segments), ...bucketParams(buckets), ...auditParams(pushes, (i) => partitions[i]), options.channel, notify],
  });
  const result = new Map<string, CurrentStats>();
  for (const r of rows) result.set(r.name, currentStats(r));
  return result;
}

/**
 * Applies a batch of one partition in offset order and returns the current statistics of every
 * name it touched, as of the end of the batch. Pushes of a name between two of its resets form a
 * segment; segments are summarized in JS (Welford) and merged into the stored row in SQL (Chan).
 * Names do not interact, so a batch with resets runs in phases: phase k merges every name's k-th
 * segment, then performs every name's k-th reset. A batch without resets (the usual case) is one
 * statement.
 */
export async function applyScores(
  client: PoolClient,
  items: ScoreItem[],
  batch: { partition: number; nextOffset: bigint },
  options: { audit: boolean; channel: string },
): Promise<Map<string, CurrentStats>> {
  const phases: { segments: Map<string, Agg>; resets: (ScoreItem & { type: 'reset' })[] }[] = [];
  const phaseOf = new Map<string, number>();
  const buckets = new Map<string, { name: string; minute: number; agg: Agg }>();
  const pushes: (ScoreItem & { type: 'push' })[] = [];
  for (const item of items) {
    const k = phaseOf.get(item.name) ?? 0;
    while (phases.length <= k) phases.push({ segments: new Map(), resets: [] });
    if (item.type === 'reset') {
      phases[k].resets.push(item);
      phaseOf.set(item.name, k + 1);
      continue;
    }
    pushes.push(item);
    phases[k].segments.set(item.name, add(phases[k].segments.get(item.name), item.score, item.at));
    const minute = Math.floor(item.at / 60000) * 60000;
    const bk = `${minute}\u0000${item.name}`;
    buckets.set(bk, { name: item.name, minute, agg: add(buckets.get(bk)?.agg, item.score, item.at) });
  }
  const audited = options.audit ? pushes : [];
  const payload = appliedPayload(batch.partition, batch.nextOffset, PROCESS_ORIGIN);
  const result = new Map<string, CurrentStats>();
  const collect = (rows: CurrentStatsRow[]) => rows.forEach((r) => result.set(r.name, currentStats(r)));

  if (phases.length === 1 && phases[0].resets.length === 0) {
    const { rows } = await client.query<CurrentStatsRow>({
      name: 'dasy-scores-apply',
      text: APPLY_PUSHES,
      values: [...statsParams(phases[0].segments), ...bucketParams(buckets), ...auditParams(audited, () => batch.partition), options.channel, [payload]],
    });
    collect(rows);
    return result;
  }
  for (const phase of phases) {
    if (phase.segments.size) collect((await client.query<CurrentStatsRow>(mergeStats(1), statsParams(phase.segments))).rows);
    if (phase.resets.length) {
      const r = phase.resets;
      const { rows } = await client.query<CurrentStatsRow>(RESET, [
        r.map((i) => i.name),
        r.map((i) => i.username),
        r.map((i) => iso(i.at)),
        r.map((i) => i.offset.toString()),
        batch.partition,
      ]);
      collect(rows);
    }
  }
  if (buckets.size) await client.query(mergeBuckets(1), bucketParams(buckets));
  if (audited.length)
    await client.query(
      audit(1),
      auditParams(audited, () => batch.partition),
    );
  await client.query('SELECT pg_notify($1, $2)', [options.channel, payload]);
  return result;
}

/**
 * The items the consumer may apply: those whose request the api has not abandoned (answered 503),
 * in their current attempt, marked applied here in the batch's transaction (score-requests.ts).
 * Messages written before requests existed carry none and pass.
 */
async function admitted(client: PoolClient, batches: { items: ScoreItem[]; batch: BatchInfo }[], windowMs: number): Promise<ScoreItem[][]> {
  const requests: MessageRequest[] = [];
  for (const { items, batch } of batches) {
    for (const i of items) {
      if (i.request !== undefined && i.attempt !== undefined)
        requests.push({ key: i.request, attempt: i.attempt, at: i.at, partition: batch.partition, offset: i.offset });
    }
  }
  if (!requests.length) return batches.map((b) => b.items);
  const ok = await admitRequests(client, requests, windowMs);
  return batches.map(({ items }) => items.filter((i) => i.request === undefined || i.attempt === undefined || isAdmitted(ok, i.request, i.attempt)));
}

/** Record the batch's dead letters beside the data, in its transaction (read by AppliedTracker). */
const RECORD_DEAD_LETTERS = `INSERT INTO score_dead_letters (group_id, kafka_partition, kafka_offset, reason)
    SELECT $1, $2, d.off, d.reason FROM unnest($3::bigint[], $4::text[]) AS d(off, reason)
    ON CONFLICT (group_id, kafka_partition, kafka_offset) DO UPDATE SET reason = excluded.reason, dead_lettered_at = now()`;

/**
 * The scores consumer: applies pushes and resets; after each commit, `onApplied` gets the
 * partition's new applied offset, the current statistics of the names of the batch and the
 * offsets it dead-lettered (the api in the same process answers its waiting pushes from them
 * without another query).
 */
export function scoresApp(options: {
  audit: boolean;
  group: string;
  /** a request older than this is not applied (DASY_API_IDEMPOTENCY_WINDOW_MS) */
  windowMs: number;
  onApplied?: (partition: number, nextOffset: bigint, batch: AppliedBatch) => void;
}): BatchApp<ScoreItem> {
  const channel = appliedChannel(options.group);
  // Results of the batch in flight per partition, handed over once it committed. A retried or
  // (on a data error) item-by-item applied batch adds to the same entry; later results win.
  const pending = new Map<number, { nextOffset: bigint; stats: Map<string, CurrentStats> }>();
  const remember = (batch: BatchInfo, stats: Map<string, CurrentStats>) => {
    const entry = pending.get(batch.partition);
    if (entry && entry.nextOffset === batch.nextOffset) for (const [k, v] of stats) entry.stats.set(k, v);
    else pending.set(batch.partition, { nextOffset: batch.nextOffset, stats: new Map(stats) });
  };
  return {
    decode: (message) => decodeScore(message),
    async apply(client, items, batch) {
      const [kept] = await admitted(client, [{ items, batch }], options.windowMs);
      remember(batch, await applyScores(client, kept, batch, { audit: options.audit, channel }));
    },
    async applyMany(client, all) {
      const kept = await admitted(client, all, options.windowMs);
      const batches = all.map(({ batch }, i) => ({ items: kept[i], batch }));
      if (batches.some((b) => b.items.some((i) => i.type === 'reset'))) {
        for (const { items, batch } of batches) if (items.length) remember(batch, await applyScores(client, items, batch, { audit: options.audit, channel }));
        return;
      }
      const stats = await applyPushesTogether(client, batches, { audit: options.audit, channel });
      for (const { batch } of batches) remember(batch, stats);
    },
    async deadLettered(client, letters: DeadLetter[], batch) {
      await client.query(RECORD_DEAD_LETTERS, [options.group, batch.partition, letters.map((l) => l.offset.toString()), letters.map((l) => l.reason)]);
    },
    afterCommit(_items, batch, letters) {
      const entry = pending.get(batch.partition);
      pending.delete(batch.partition);
      const stats = entry && entry.nextOffset === batch.nextOffset ? entry.stats : new Map<string, CurrentStats>();
      options.onApplied?.(batch.partition, batch.nextOffset, { stats, deadLettered: new Map(letters.map((l) => [l.offset, l.reason])) });
    },
  };
}
