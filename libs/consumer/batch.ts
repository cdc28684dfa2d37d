/**
 * What a batch is to the consumer's observers and apps: a leaf of libs/consumer, so that the
 * events (events.ts) and the app's interface (types.ts) both build on it without importing each other.
 */
/** A message of the batch that went to the dead-letter topic instead of being applied. */
export interface DeadLetter {
  offset: bigint;
  reason: string;
}

export interface BatchInfo {
  topic: string;
  partition: number;
  /** where the batch's range of offsets begins (at or before its first message: compaction leaves gaps) */
  firstOffset: bigint;
  /** offset after the batch's last message: the stored offset once committed */
  nextOffset: bigint;
  highWatermark: bigint;
}
