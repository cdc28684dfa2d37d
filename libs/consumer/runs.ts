import { Batch } from 'kafkajs';

/**
 * Where a batch's range of offsets begins, with log compaction (which leaves offsets without a
 * record). Inside a fetch that is harmless: a batch covers the offsets from where it was fetched.
 * But kafkajs moves over a fetch that holds nothing for eachBatch on its own (a cleaned segment
 * ending with a batch compaction emptied, see patches/kafkajs+2.2.4.patch), and the next batch
 * then starts further on than the stored offset: its compare-and-set would fail, seek back, and
 * loop for ever. So each partition keeps its run: `base`, where this member stands (its last
 * commit, or where it sought), and `reach`, up to where kafkajs found nothing: a batch fetched at
 * reach starts at base. kafkajs fetches at this member's position (a seek drops what was fetched
 * before it), so such a fetch was at reach, and the offsets from there to its end hold nothing.
 */
export class Runs {
  private readonly runs = new Map<number, { base: bigint; reach: bigint }>();

  /** a rebalance: positions are known again once sought */
  clear(): void {
    this.runs.clear();
  }

  /** this member sought the partition to offset, or committed up to it */
  at(partition: number, offset: bigint): void {
    this.runs.set(partition, { base: offset, reach: offset });
  }

  /**
   * kafkajs's report of a fetch with nothing for eachBatch (END_BATCH_PROCESS of batchSize 0): it
   * moves to lastOffset + 1. With no offset at all (firstOffset null), lastOffset is where it fetched.
   */
  emptyFetch(partition: number, firstOffset: string | null, lastOffset: string): void {
    const run = this.runs.get(partition);
    const last = BigInt(lastOffset);
    if (run && (firstOffset === null ? run.reach === last : run.reach <= BigInt(firstOffset))) run.reach = last + 1n;
  }

  /** Where a batch's offsets begin: where it was fetched (at or before its first message), or earlier across offsets proven empty. */
  start(batch: Batch): bigint {
    const fetched = (batch as Batch & { fetchedOffset?: string }).fetchedOffset;
    const first = BigInt(batch.messages[0].offset);
    const at = fetched === undefined ? first : BigInt(fetched) < first ? BigInt(fetched) : first;
    const run = this.runs.get(batch.partition);
    return run && run.reach === at ? run.base : at;
  }
}
