import { createHash, randomBytes } from 'crypto';
import { CurrentStats } from './store';

/*
 * How the scores consumer tells that a batch is applied, to the api in its own process (AppliedBatch,
 * through its onApplied) and to every other (a notification on its group's channel). Both sides
 * import it: the consumer (scores-consumer.ts) and the waiting requests' tracker (applied.ts).
 */

/**
 * The PostgreSQL channel on which a consumer group announces its applied offsets. The scores
 * consumer calls pg_notify inside each batch's transaction, so the notification is delivered on
 * commit, once the batch is visible to every other connection.
 */
export function appliedChannel(group: string): string {
  return 'dasy_applied_' + createHash('sha1').update(group).digest('hex');
}

/** `partition:nextOffset:origin`; origin names the process that applied the batch. */
export function appliedPayload(partition: number, nextOffset: bigint, origin: string): string {
  return `${partition}:${nextOffset}:${origin}`;
}

/** A token naming this process in notifications (its own consumer tells it directly). */
export const PROCESS_ORIGIN = randomBytes(6).toString('hex');

/** What one committed batch did: the current statistics of its names, and what it dead-lettered. */
export interface AppliedBatch {
  stats: Map<string, CurrentStats>;
  /** offset → reason */
  deadLettered: Map<bigint, string>;
}
