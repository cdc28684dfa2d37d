import { BatchLetters } from './dead-letters';
import { BatchInfo, DeadLetter, Item, Poison } from './types';

/** A fetched batch on its way to PostgreSQL, kept by the runner across its attempts. */
export interface PendingBatch<T> {
  readonly items: Item<T>[];
  /** the messages that could not be decoded: dead letters, known before any transaction */
  readonly poison: Poison[];
  readonly info: BatchInfo;
  /** those of its messages in `<topic>.dlq` already: each is sent once across the attempts */
  readonly letters: BatchLetters;
  /** still this member's to commit: not stopped, not revoked, not fetched before a seek */
  live(): boolean;
}

/** Nothing was committed and the batch is no longer this member's to commit. */
export const ABANDONED = 'abandoned';

/**
 * How a consumer commits a batch (the runner, runner.ts, decides when, and what a failure means).
 * Whatever the strategy: the batch's effects, the record of its dead letters and its offset,
 * moved by compare-and-set from `info.firstOffset` (the fence), commit in one transaction;
 * dead letters are sent, outside any transaction, before the transaction that skips them. One
 * call is one attempt: it resolves with the batch's dead letters once committed, or ABANDONED,
 * and throws what kept it from committing (fenced, an outage, ...), the batch not committed.
 *
 * The strategies (chosen by name in the consumer's options, strategies.ts): `plain` (plain.ts),
 * `fold-begin` (fold-begin.ts), `coalesce` (coalesce.ts).
 */
export interface CommitStrategy<T> {
  commit(batch: PendingBatch<T>, attempt: number): Promise<DeadLetter[] | typeof ABANDONED>;
}
