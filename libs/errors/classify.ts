import { DatabaseError } from 'pg';
import { DasyError, FencedError, KafkaError, PoisonMessageError, StoppedError, UnavailableError } from './index';

/**
 * What went wrong, decided once from an error's class and code (never its message):
 * - `fenced`: another consumer owns the partition's range (libs/consumer/offsets.ts);
 * - `kafka-unavailable` / `postgresql-unavailable`: retrying later can succeed; said once per outage;
 * - `data`: this payload can never be stored (PostgreSQL refuses it, and always will: SQLSTATE
 *   classes 22, 23, 54, below; or it cannot be decoded): dead-letter it, apply the rest;
 * - `schema`: a table or schema is missing (42P01, 3F000): `make create-migrations`;
 * - `stopped`: the component is stopping; nothing was committed;
 * - `fatal`: a bug or a refused request; retried with backoff where a part must keep running.
 */
export type Failure = 'fenced' | 'kafka-unavailable' | 'postgresql-unavailable' | 'data' | 'schema' | 'stopped' | 'fatal';

// SQLSTATE: connection exceptions (08), operator intervention (57P01-57P03: shutdown, crash,
// cannot connect now), insufficient resources (53), and what a retry of the transaction resolves.
const RETRIABLE_SQLSTATE = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03']);
const RETRIABLE_SQLSTATE_CLASSES = new Set(['08', '53']);
const SCHEMA_SQLSTATE = new Set(['42P01', '3F000']);
// SQLSTATE classes that refuse what a statement writes, and would refuse the same values again:
// 22 data exception (out of range, invalid text for the type, a string too long for varchar(n)),
// 23 integrity constraint violation (NOT NULL, CHECK, unique, foreign key: one writer per key,
// so no race makes one transient; the fence is a compare-and-set, never a 23), 54 program limit
// exceeded (54000: an index row over the btree's 2,704 bytes; 54001 too complex). Not 42 (a
// statement PostgreSQL cannot run: a bug or a missing table, the same for every message, to be
// fixed, not dead-lettered), 21000 (a statement touching a row twice: a bug of the batch, not of
// a message), 57014 (cancelled: load) or XX (internal): those retry.
const REFUSAL_SQLSTATE_CLASSES = new Set(['22', '23', '54']);

export function classify(err: unknown): Failure {
  if (err instanceof DasyError) return ownFailure(err);
  if (err instanceof DatabaseError) return sqlStateFailure(err.code);
  // a socket error of Node itself: the Kafka client wraps its own, so this is PostgreSQL's (pg passes them on)
  if (isSystemError(err)) return 'postgresql-unavailable';
  return 'fatal';
}

/** Whether retrying the same work can succeed. */
export function isRetriable(err: unknown): boolean {
  const f = classify(err);
  return f === 'kafka-unavailable' || f === 'postgresql-unavailable' || f === 'fenced';
}

export function isKafkaUnavailable(err: unknown): boolean {
  return classify(err) === 'kafka-unavailable';
}

export function isPostgresUnavailable(err: unknown): boolean {
  return classify(err) === 'postgresql-unavailable';
}

function ownFailure(err: DasyError): Failure {
  if (err instanceof FencedError) return 'fenced';
  // made at the Kafka port's boundary (libs/kafka/errors.ts): unreachable or not ready, or refused
  if (err instanceof KafkaError) return err.retriable ? 'kafka-unavailable' : 'fatal';
  if (err instanceof StoppedError) return 'stopped';
  if (err instanceof PoisonMessageError) return 'data';
  if (err instanceof UnavailableError) {
    if (err.service === 'kafka') return 'kafka-unavailable';
    if (err.service === 'postgresql') return 'postgresql-unavailable';
    return err.cause === undefined ? 'fatal' : classify(err.cause);
  }
  return err.retriable && err.cause !== undefined ? classify(err.cause) : 'fatal';
}

export function sqlStateFailure(code: string | undefined): Failure {
  if (!code) return 'postgresql-unavailable';
  if (RETRIABLE_SQLSTATE.has(code) || RETRIABLE_SQLSTATE_CLASSES.has(code.slice(0, 2))) return 'postgresql-unavailable';
  if (REFUSAL_SQLSTATE_CLASSES.has(code.slice(0, 2))) return 'data';
  if (SCHEMA_SQLSTATE.has(code)) return 'schema';
  return 'fatal';
}

/** PostgreSQL's SQLSTATE of an error (undefined when it is not the server's answer). */
export function sqlState(err: unknown): string | undefined {
  return err instanceof DatabaseError ? err.code : undefined;
}

function isSystemError(err: unknown): boolean {
  const e = err as { code?: unknown; syscall?: unknown } | null;
  return !!e && typeof e.code === 'string' && typeof e.syscall === 'string';
}
