import { Batch, EmptyFetch } from '../kafka/port';

/**
 * Where a batch's range of offsets begins, with log compaction (which leaves offsets without a
 * record). Inside a fetch that is harmless: a batch covers the offsets from where it was fetched,
 * its first message may come later. But the client moves over a fetch that holds nothing for
 * eachBatch on its own (a cleaned segment ending with a batch compaction emptied, see
 * patches/kafkajs+2.2.4.patch), and the next batch then starts further on than the stored offset:
 * its compare-and-set would fail, seek back, and loop for ever. So each partition keeps its run:
 * `base`, where this member stands (its last commit, or where it sought), and `reach`, up to where
 * the client found nothing. The client fetches at this member's position, which is reach: a seek
 * drops what was fetched before it (and a batch fetched before it is stale), a commit resolves the
 * batch's end, an empty fetch moves past its end. So a batch whose first message is at or after
 * reach was fetched there, and starts at base; the offsets from base to its first message hold
 * nothing. Without a run (after a rebalance, before the seek) a batch starts at its first message:
 * where it was fetched is not known, and the fence seeks to the stored offset if that differs.
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
   * The client's report of a fetch with nothing for eachBatch: it moves to lastOffset + 1. With no
   * offset at all (firstOffset null), lastOffset is where it fetched.
   */
  emptyFetch(fetch: Pick<EmptyFetch, 'partition' | 'firstOffset' | 'lastOffset'>): void {
    const run = this.runs.get(fetch.partition);
    const last = fetch.lastOffset;
    if (run && (fetch.firstOffset === null ? run.reach === last : run.reach <= fetch.firstOffset)) run.reach = last + 1n;
  }

  /** Where a batch's offsets begin: its first message, or earlier across offsets proven empty. */
  start(batch: Pick<Batch, 'partition' | 'messages'>): bigint {
    const first = batch.messages[0].offset;
    const run = this.runs.get(batch.partition);
    return run && run.reach <= first ? run.base : first;
  }
}
