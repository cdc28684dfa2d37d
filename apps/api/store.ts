import { CustomTypesConfig, Pool, types } from 'pg';
import { chanMerge, EMPTY, fromDecimal, Moments, StatsView, view } from '../../libs/stats';
import { MicroBatcher } from './batcher';
import { Interval, INTERVAL_MS, Window } from './validate';

/**
 * The api's reads, with plain pg and named (prepared) statements: no ORM on the hot path.
 * Statistics rows hold (count, sum, sum_sq, min, max), the sums exact (numeric); the views turn
 * them into the mean and stddev, correctly rounded (libs/stats).
 */
export interface CurrentStats extends Moments {
  name: string;
  session: number;
  first_at: Date | null;
  last_at: Date | null;
  /** offset of the reset that started the session (null: the first session) */
  started_offset: bigint | null;
}

interface MomentsRow {
  count: string;
  /** numeric: pg returns its exact decimal text */
  sum: string;
  sum_sq: string;
  min: number | null;
  max: number | null;
  first_at: Date | null;
  last_at: Date | null;
}

const moments = (r: MomentsRow): Moments => ({ count: Number(r.count), sum: fromDecimal(r.sum), sumSq: fromDecimal(r.sum_sq), min: r.min, max: r.max });

/** A score_stats row as pg returns it. */
export interface CurrentStatsRow extends MomentsRow {
  name: string;
  session: number;
  started_offset: string | null;
}

export function currentStats(r: CurrentStatsRow): CurrentStats {
  return {
    name: r.name,
    session: r.session,
    ...moments(r),
    first_at: r.first_at,
    last_at: r.last_at,
    started_offset: r.started_offset === null ? null : BigInt(r.started_offset),
  };
}

/** Whether a session's statistics include the push at `offset` of the name's partition. */
export function includesPush(s: CurrentStats, offset: bigint): boolean {
  return s.started_offset === null || s.started_offset < offset;
}
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export type StatsReply = { name: string } & StatsView & { first_at: string | null; last_at: string | null };

export function statsReply(name: string, m: Moments, first: Date | null, last: Date | null): StatsReply {
  return { name, ...view(m), first_at: isoOrNull(first), last_at: isoOrNull(last) };
}

/** A score_stats row as PostgreSQL's text (null: NULL), every column as StatsReader reads it. */
export interface StatsText {
  name: string;
  session: string;
  count: string;
  sum: string;
  sum_sq: string;
  min: string | null;
  max: string | null;
  first_at: string | null;
  last_at: string | null;
  started_offset: string | null;
}

/** The columns of a StatsText, in the order the query reads them. */
export const STATS_COLUMNS = ['name', 'session', 'count', 'sum', 'sum_sq', 'min', 'max', 'first_at', 'last_at', 'started_offset'] as const;

/** pg's own parsers for the typed columns: a decoded StatsText is what pg would have returned. */
const parseTimestamptz = types.getTypeParser(types.builtins.TIMESTAMPTZ) as (text: string) => Date;
const parseFloat8 = types.getTypeParser(types.builtins.FLOAT8) as (text: string) => number;
const parseInt4 = types.getTypeParser(types.builtins.INT4) as (text: string) => number;
const orNull =
  <T>(parse: (text: string) => T) =>
  (text: string | null): T | null =>
    text === null ? null : parse(text);
const floatOrNull = orNull(parseFloat8);
const dateOrNull = orNull(parseTimestamptz);

/** A row read as text, as the row pg parses (CurrentStatsRow). */
export function parseStatsText(t: StatsText): CurrentStatsRow {
  return {
    ...t,
    session: parseInt4(t.session),
    min: floatOrNull(t.min),
    max: floatOrNull(t.max),
    first_at: dateOrNull(t.first_at),
    last_at: dateOrNull(t.last_at),
  };
}

/** A row read as text, as the current statistics (a push's answer, a GET's body). */
export function currentStatsOfText(t: StatsText): CurrentStats {
  return currentStats(parseStatsText(t));
}

/** Every column as PostgreSQL sent it: an unchanged row needs no decoding at all (stats-body.ts). */
const AS_TEXT: CustomTypesConfig = { getTypeParser: () => (text: string) => text };

/**
 * Current-session statistics by name, as PostgreSQL's text. Concurrent lookups are coalesced into
 * one query (a push's reply, a GET): fewer round trips under load, and a lookup only ever joins a
 * query that starts after it was asked, so it sees every commit before it.
 */
export class StatsReader {
  private readonly batcher: MicroBatcher<string, StatsText | undefined>;

  constructor(private readonly pool: Pool) {
    this.batcher = new MicroBatcher((names) => this.loadMany(names), { maxBatch: 512, maxConcurrent: 3 });
  }

  load(name: string): Promise<StatsText | undefined> {
    return this.batcher.submit(name);
  }

  private async loadMany(names: string[]): Promise<(StatsText | undefined)[]> {
    const unique = [...new Set(names)];
    const { rows } = await this.pool.query<StatsText>({
      name: 'dasy_api_stats',
      // One primary-key lookup per name (LIMIT 1 keeps each a lookup): on a small table the
      // planner answered `WHERE name = ANY($1)` with a scan of every row against every name
      // (1,000 products, 12 names: 0.13-0.22 ms a query against 0.08 ms, pgbench).
      text: `SELECT s.* FROM unnest($1::text[]) AS n(name),
               LATERAL (SELECT ${STATS_COLUMNS.join(', ')} FROM score_stats WHERE name = n.name LIMIT 1) s`,
      values: [unique],
      types: AS_TEXT,
    });
    const byName = new Map(rows.map((r) => [r.name, r]));
    return names.map((n) => byName.get(n));
  }
}

interface BucketRow extends MomentsRow {
  minute: Date;
}

/** Minute buckets overlapping [from, to): a window resolves to whole minutes. */
async function buckets(pool: Pool, name: string, w: Window): Promise<BucketRow[]> {
  if (w.from && w.to && w.from.getTime() >= w.to.getTime()) return [];
  const { rows } = await pool.query<BucketRow>({
    name: 'dasy_api_buckets',
    text: `SELECT minute, count, sum, sum_sq, min, max, first_at, last_at FROM score_buckets
            WHERE name = $1
              AND ($2::timestamptz IS NULL OR minute > $2::timestamptz - interval '1 minute')
              AND ($3::timestamptz IS NULL OR minute < $3::timestamptz)
            ORDER BY minute`,
    values: [name, w.from, w.to],
  });
  return rows;
}

/** Statistics of a time window: Chan's merge of its minute buckets (all sessions). */
export async function windowStats(pool: Pool, name: string, w: Window) {
  let m: Moments = EMPTY;
  let first: Date | null = null;
  let last: Date | null = null;
  for (const b of await buckets(pool, name, w)) {
    m = chanMerge(m, moments(b));
    if (b.first_at && (!first || b.first_at < first)) first = b.first_at;
    if (b.last_at && (!last || b.last_at > last)) last = b.last_at;
  }
  return { ...statsReply(name, m, first, last), from: isoOrNull(w.from), to: isoOrNull(w.to) };
}

export interface HistoryBucket extends StatsView {
  start: string;
}

/** The statistics (and so the mean) bucket by bucket: minute buckets merged per interval (UTC). */
export async function history(pool: Pool, name: string, interval: Interval, w: Window): Promise<HistoryBucket[]> {
  const size = INTERVAL_MS[interval];
  const out: { start: number; m: Moments }[] = [];
  for (const b of await buckets(pool, name, w)) {
    const start = Math.floor(b.minute.getTime() / size) * size;
    const tail = out[out.length - 1];
    if (tail && tail.start === start) tail.m = chanMerge(tail.m, moments(b));
    else out.push({ start, m: moments(b) });
  }
  return out.map((b) => ({ start: new Date(b.start).toISOString(), ...view(b.m) }));
}

export interface SessionReply extends StatsView {
  session: number;
  current: boolean;
  started_at: string;
  ended_at: string | null;
  reset_by: string | null;
  first_at: string | null;
  last_at: string | null;
}

interface SessionRow extends MomentsRow {
  session: number;
  started_at: Date;
  ended_at: Date | null;
  reset_by: string | null;
}

function sessionReply(r: SessionRow): SessionReply {
  return {
    session: r.session,
    current: r.ended_at === null,
    ...view(moments(r)),
    first_at: isoOrNull(r.first_at),
    last_at: isoOrNull(r.last_at),
    started_at: r.started_at.toISOString(),
    ended_at: isoOrNull(r.ended_at),
    reset_by: r.reset_by,
  };
}

/** Every session of a product, oldest first; the last one is the current session. */
export async function sessions(pool: Pool, name: string): Promise<SessionReply[]> {
  const { rows } = await pool.query<SessionRow>({
    name: 'dasy_api_sessions',
    text: `SELECT session, count, sum, sum_sq, min, max, first_at, last_at, started_at, ended_at, reset_by FROM score_sessions WHERE name = $1
           UNION ALL
           SELECT session, count, sum, sum_sq, min, max, first_at, last_at, started_at, NULL, NULL FROM score_stats WHERE name = $1
           ORDER BY session`,
    values: [name],
  });
  return rows.map(sessionReply);
}

/**
 * The session a given reset message ended, found by the reset's place in the topic and its time
 * (namespaces sharing a database share these tables, and their topics' offsets overlap).
 */
export async function endedSession(pool: Pool, name: string, partition: number, offset: bigint, at: number): Promise<SessionReply | undefined> {
  const { rows } = await pool.query<SessionRow>({
    name: 'dasy_api_ended_session',
    text: `SELECT session, count, sum, sum_sq, min, max, first_at, last_at, started_at, ended_at, reset_by FROM score_sessions
            WHERE name = $1 AND reset_partition = $2 AND reset_offset = $3 AND ended_at = $4
            ORDER BY session DESC LIMIT 1`,
    values: [name, partition, offset.toString(), new Date(at).toISOString()],
  });
  return rows.length ? sessionReply(rows[0]) : undefined;
}

/**
 * The statistics of the session a push went into when a reset after it (same partition, so
 * ordered with it) has already ended that session: the session the first such reset ended.
 */
export async function sessionOfPush(pool: Pool, name: string, partition: number, offset: bigint): Promise<StatsView | undefined> {
  const { rows } = await pool.query<MomentsRow>({
    name: 'dasy_api_session_of_push',
    text: `SELECT count, sum, sum_sq, min, max, first_at, last_at FROM score_sessions
            WHERE name = $1 AND reset_partition = $2 AND reset_offset > $3
            ORDER BY reset_offset LIMIT 1`,
    values: [name, partition, offset.toString()],
  });
  return rows.length ? view(moments(rows[0])) : undefined;
}

export interface AdStatistics {
  filter: 'username' | 'sdk_version';
  value: string;
  ad_requests: number;
  impressions: number;
  fill_rate: number | null;
}

export async function adStatistics(pool: Pool, filter: 'username' | 'sdk_version', value: string): Promise<AdStatistics> {
  const { rows } = await pool.query<{ ad_requests: string; impressions: string }>({
    name: 'dasy_api_ad_stats',
    text: `SELECT coalesce(sum(ad_requests), 0) AS ad_requests, coalesce(sum(impressions), 0) AS impressions
             FROM ad_counters WHERE dimension = $1 AND value = $2`,
    values: [filter, value],
  });
  const ad = Number(rows[0].ad_requests);
  const imp = Number(rows[0].impressions);
  return { filter, value, ad_requests: ad, impressions: imp, fill_rate: ad === 0 ? null : imp / ad };
}
