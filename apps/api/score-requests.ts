import { createHash } from 'crypto';
import { Pool, PoolClient } from 'pg';
import { numbersLiteral, textsLiteral } from '../../libs/db/array-literal';
import { randomId } from '../../libs/random/ids';
import { ApiError } from './validate';

/**
 * A push's or reset's request as its message carries it: the key of its row in `score_requests`
 * (migrations/1732300022000-ScoreRequests.ts) and the attempt that may be applied.
 */
export interface RequestRef {
  key: string;
  attempt: number;
  /** the client's Idempotency-Key named it (its answer is kept for a retry) */
  keyed: boolean;
}

/** Where an applied request's message was, and when its attempt was sent (a reset's session ends then). */
export interface AppliedAt {
  partition: number;
  offset: bigint;
  sentAt: number;
}

/** What a request with an Idempotency-Key does: go (its attempt), or answer as its first request did. */
export type Claim = { kind: 'go'; ref: RequestRef } | { kind: 'answered'; answer: unknown } | { kind: 'applied'; ref: RequestRef; at: AppliedAt };

/**
 * A request without Idempotency-Key is fenced all the same (a 503 is never applied afterwards), by
 * an id the api draws; its row is needed only until the api could abandon it (its deadline: at most
 * the push timeout, at most 1 h), so the consumer's rows of such requests expire after 2 h.
 */
export const UNKEYED_APPLIED_TTL_MS = 2 * 3_600_000;

export function unkeyedRequest(): RequestRef {
  return { key: `r:${randomId()}`, attempt: 1, keyed: false };
}

/** What makes two requests the same request: the route and the fields applied (after validation). */
export function fingerprint(route: string, fields: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([route, fields]))
    .digest('base64url');
}

export const KEY_MAX = 255;

/** The row of a request with the Idempotency-Key `key`. */
export const keyedRow = (key: string) => `k:${key}`;

/**
 * The Idempotency-Key header (IETF httpapi draft): a structured-field string (`"..."`, with `\"`
 * and `\\` escapes); a bare token of visible ASCII is taken as well. 1 to 255 characters.
 */
export function parseIdempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const invalid = (why: string) => new ApiError(400, 'invalid_value', `Idempotency-Key ${why}`, 'idempotency-key');
  if (Array.isArray(raw)) throw invalid('is given more than once');
  const value = raw.trim();
  let key: string;
  if (value.startsWith('"')) {
    const m = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(value);
    if (!m) throw invalid('must be a string of printable ASCII characters in double quotes');
    key = m[1].replace(/\\(["\\])/g, '$1');
  } else {
    if (!/^[\x21-\x7e]+$/.test(value)) throw invalid('must be a string of printable ASCII characters in double quotes');
    key = value;
  }
  if (key.length === 0 || key.length > KEY_MAX) throw invalid(`must be 1 to ${KEY_MAX} characters`);
  return key;
}

interface RequestRow {
  state: 'in_flight' | 'applied' | 'abandoned';
  attempt: number;
  fingerprint: string | null;
  kafka_partition: number | null;
  kafka_offset: string | null;
  sent_at: number | null;
  /** the first answer's JSON text (text, not jsonb: the replay is the same bytes, keys in their order) */
  answer: string | null;
}

/**
 * Take the key for a new attempt: a first request, or a retry of the same request whose earlier
 * attempt was abandoned (answered 503) or outlived its deadline (its api went away), or any request
 * once the key's window passed. The attempt number goes up each time: an earlier attempt's message,
 * if it ever arrives, no longer matches and is not applied.
 */
const CLAIM = `INSERT INTO score_requests AS r (key, state, attempt, fingerprint, deadline, sent_at, expires_at)
    VALUES ($1, 'in_flight', 1, $2, to_timestamp($3::float8 / 1000), $4, now() + $5 * interval '1 millisecond')
    ON CONFLICT (key) DO UPDATE SET state = 'in_flight', attempt = r.attempt + 1, fingerprint = excluded.fingerprint,
        deadline = excluded.deadline, sent_at = excluded.sent_at, kafka_partition = NULL, kafka_offset = NULL, answer = NULL,
        expires_at = CASE WHEN r.expires_at < now() THEN excluded.expires_at ELSE r.expires_at END
      WHERE r.expires_at < now()
         OR (r.fingerprint = excluded.fingerprint AND (r.state = 'abandoned' OR (r.state = 'in_flight' AND r.deadline < now())))
    RETURNING r.attempt`;

const READ = `SELECT state, attempt, fingerprint, kafka_partition, kafka_offset, sent_at, answer FROM score_requests WHERE key = $1`;

/** The api answers 503: the attempt is never applied after this (unless the consumer marked it applied first). */
const ABANDON = `INSERT INTO score_requests AS r (key, state, attempt, expires_at)
    VALUES ($1, 'abandoned', $2, now() + $3 * interval '1 millisecond')
    ON CONFLICT (key) DO UPDATE SET state = 'abandoned' WHERE r.state = 'in_flight' AND r.attempt = excluded.attempt
    RETURNING r.key`;

/** The first answer stays: a concurrent second writer gets it back. */
const RECORD_ANSWER = `UPDATE score_requests SET answer = COALESCE(answer, $3)
    WHERE key = $1 AND attempt = $2 AND state = 'applied' RETURNING answer`;

/** A batch's row: applied once every push of the batch was answered (push-batch.ts). */
const FINISH_BATCH = `UPDATE score_requests SET state = 'applied', answer = $3
    WHERE key = $1 AND attempt = $2 AND state = 'in_flight' RETURNING answer`;

/** Expired rows are deleted this many per statement: each a short transaction, however many expired. */
export const PURGE_BATCH = 10_000;
const PURGE = `DELETE FROM score_requests WHERE key IN (SELECT key FROM score_requests WHERE expires_at < now() LIMIT ${PURGE_BATCH})`;

/** The api's side of `score_requests`: claims, abandons and answers of requests. */
export class ScoreRequests {
  constructor(
    private readonly pool: Pool,
    /** how long an Idempotency-Key is remembered (DASY_API_IDEMPOTENCY_WINDOW_MS) */
    private readonly windowMs: number,
  ) {}

  /** A request with an Idempotency-Key: 422 when the key named another request, 409 while its first is in flight. */
  async claim(key: string, print: string, deadline: number, sentAt: number): Promise<Claim> {
    return this.claimRow(keyedRow(key), print, deadline, sentAt);
  }

  /** As claim, for a row named by its key in the table (a batch's rows: push-batch.ts). */
  async claimRow(rowKey: string, print: string, deadline: number, sentAt: number): Promise<Claim> {
    for (;;) {
      const { rows } = await this.pool.query<{ attempt: number }>(CLAIM, [rowKey, print, deadline, sentAt, this.windowMs]);
      if (rows.length) return { kind: 'go', ref: { key: rowKey, attempt: rows[0].attempt, keyed: true } };
      const row = await this.read(rowKey);
      if (!row) continue; // purged in between
      if (row.fingerprint !== print) {
        throw new ApiError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for another request (route or fields)', 'idempotency-key');
      }
      if (row.state === 'in_flight') {
        throw new ApiError(409, 'request_in_flight', 'a request with this Idempotency-Key is still in flight; retry once it is answered', 'idempotency-key');
      }
      if (row.state !== 'applied') continue; // abandoned between the two statements: claim again
      if (row.answer !== null) return { kind: 'answered', answer: JSON.parse(row.answer) as unknown };
      return { kind: 'applied', ref: { key: rowKey, attempt: row.attempt, keyed: true }, at: appliedAt(row) };
    }
  }

  /**
   * The request is answered 503: its attempt must never be applied afterwards. Undefined when that
   * holds now; where it was applied when the consumer was first.
   */
  async abandon(ref: RequestRef): Promise<AppliedAt | undefined> {
    const { rows } = await this.pool.query(ABANDON, [ref.key, ref.attempt, this.windowMs]);
    if (rows.length) return undefined;
    const row = await this.read(ref.key);
    return row?.state === 'applied' && row.attempt === ref.attempt ? appliedAt(row) : undefined;
  }

  /** Keep `answer` as the request's answer; what is kept (the first), or undefined if this attempt was not applied. */
  async recordAnswer(ref: RequestRef, answer: unknown): Promise<{ answer: unknown } | undefined> {
    const { rows } = await this.pool.query<{ answer: string }>(RECORD_ANSWER, [ref.key, ref.attempt, JSON.stringify(answer)]);
    return rows.length ? { answer: JSON.parse(rows[0].answer) as unknown } : undefined;
  }

  /**
   * A batch's own row (no message of the consumer ever names it) is done: applied, with its answer
   * kept; what is kept (the first), or undefined if a retry took the row over meanwhile.
   */
  async finishBatch(ref: RequestRef, answer: unknown): Promise<{ answer: unknown } | undefined> {
    const { rows } = await this.pool.query<{ answer: string }>(FINISH_BATCH, [ref.key, ref.attempt, JSON.stringify(answer)]);
    if (rows.length) return { answer: JSON.parse(rows[0].answer) as unknown };
    const row = await this.read(ref.key);
    return row?.state === 'applied' && row.answer !== null ? { answer: JSON.parse(row.answer) as unknown } : undefined;
  }

  /**
   * Delete every expired row, PURGE_BATCH at a time; how many. All of them, not one batch a call:
   * every push has a row, so pushes faster than a batch a minute would otherwise grow the table
   * without end.
   */
  async purge(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = (await this.pool.query(PURGE)).rowCount ?? 0;
      deleted += n;
      if (n < PURGE_BATCH) return deleted;
    }
  }

  private async read(key: string): Promise<RequestRow | undefined> {
    return (await this.pool.query<RequestRow>(READ, [key])).rows[0];
  }
}

function appliedAt(row: RequestRow): AppliedAt {
  return { partition: row.kafka_partition ?? 0, offset: BigInt(row.kafka_offset ?? '0'), sentAt: row.sent_at ?? 0 };
}

/** A message's request, as the scores consumer sees it. */
export interface MessageRequest {
  key: string;
  attempt: number;
  /** when the api received the request (ms since the epoch) */
  at: number;
  partition: number;
  offset: bigint;
}

/**
 * Mark applied, in the transaction that applies them, the requests the api has not abandoned (and
 * whose attempt is the current one); the keys that may be applied. A request seen for the first
 * time (no Idempotency-Key) gets its row here.
 */
const ADMIT = `INSERT INTO score_requests AS r (key, state, attempt, kafka_partition, kafka_offset, expires_at)
    SELECT k.key, 'applied', k.attempt, k.part, k.off, to_timestamp(k.at / 1000) + $6 * interval '1 millisecond'
      FROM unnest($1::text[], $2::integer[], $3::integer[], $4::bigint[], $5::float8[]) AS k(key, attempt, part, off, at)
     ORDER BY 1
    ON CONFLICT (key) DO UPDATE SET state = 'applied', kafka_partition = excluded.kafka_partition, kafka_offset = excluded.kafka_offset
      WHERE r.state = 'in_flight' AND r.attempt = excluded.attempt
    RETURNING r.key`;

/**
 * The scores consumer's side: which of a batch's requests may be applied. A message older than
 * the window is not (its abandoned row may be purged); of two attempts of one key only the later.
 */
export async function admitRequests(client: PoolClient, requests: MessageRequest[], windowMs: number): Promise<Set<string>> {
  const oldest = Date.now() - windowMs;
  const latest = new Map<string, MessageRequest>();
  for (const r of requests) {
    if (r.at < oldest) continue;
    const seen = latest.get(r.key);
    if (!seen || seen.attempt < r.attempt) latest.set(r.key, r);
  }
  if (!latest.size) return new Set();
  const list = [...latest.values()];
  const { rows } = await client.query<{ key: string }>({
    name: 'dasy-scores-admit',
    text: ADMIT,
    values: [
      textsLiteral(list.map((r) => r.key)),
      numbersLiteral(list.map((r) => r.attempt)),
      numbersLiteral(list.map((r) => r.partition)),
      numbersLiteral(list.map((r) => r.offset)),
      numbersLiteral(list.map((r) => r.at)),
      UNKEYED_APPLIED_TTL_MS,
    ],
  });
  const admitted = new Set<string>();
  for (const { key } of rows) admitted.add(`${key}\u0000${latest.get(key)?.attempt}`);
  return admitted;
}

/** Whether a message's request is among the admitted (key and attempt). */
export const isAdmitted = (admitted: Set<string>, key: string, attempt: number) => admitted.has(`${key}\u0000${attempt}`);
