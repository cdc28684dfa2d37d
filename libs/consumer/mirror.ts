import { storedOffsets } from '../db/offsets';
import { errorMessage } from '../errors';
import { Logger } from '../log';
import { Consumer } from '../kafka/port';
import { Backoff } from '../resilience/backoff';
import { ConsumerContext } from './context';
import { ConsumerEvents } from './events';

export interface MirroredOffset {
  topic: string;
  partition: number;
  /** the next offset to consume, as Kafka's committed offsets mean it */
  offset: bigint;
}

export interface OffsetMirrorDeps {
  topic: string;
  events: ConsumerEvents;
  /** commit to the Kafka consumer group (the consumer's commitOffsets) */
  commit(offsets: MirroredOffset[]): Promise<void>;
  /** where PostgreSQL says these partitions stand (or where they begin): mirrored after each join */
  positions(partitions: number[]): Promise<Map<number, bigint>>;
  log: Logger;
  /** first wait before another attempt after a failed commit */
  retryMs?: number;
  /** ms from one commit's start to the next one's (0: as soon as the one in flight is answered) */
  intervalMs?: number;
}

/**
 * Committed offsets mirrored to the Kafka consumer group, for monitoring only: Kafka's own tools,
 * Burrow or Kafka UI then show dasy's lag. PostgreSQL stays the only source of truth: these
 * commits are never read back (the consumer seeks to PostgreSQL's offsets on every join).
 *
 * Driven by `batch:committed`: the latest offset of each partition waits here, and at most one
 * commit is in flight, so a burst of batches costs one request and the next batch never waits.
 * Commits start at most every `intervalMs`: each is a write to `__consumer_offsets`, and a
 * latency-bound consumer (the api's scores consumer) commits hundreds of small batches a second.
 * After a join the group's partitions are mirrored as PostgreSQL has them (a partition never
 * consumed: where its log begins), so an idle or empty partition shows its true lag too. A failed
 * commit is tried again later (said at debug level only): the next one carries the same offsets.
 */
export class OffsetMirror {
  private pending = new Map<number, bigint>();
  private inFlight: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** waits until `intervalMs` after the last commit began */
  private intervalTimer: NodeJS.Timeout | undefined;
  private lastSentAt = -Infinity;
  /** a flush is waiting: what comes back from a commit in flight goes at once too */
  private flushing = false;
  private readonly backoff: Backoff;
  private assigned: Set<number> | undefined;
  /** partitions committed since the last join began reading positions (their newer offset wins) */
  private committedSinceJoin = new Set<number>();
  /** out of the group (stopped): nothing is sent until the next join */
  private left = false;

  constructor(private readonly deps: OffsetMirrorDeps) {
    this.backoff = new Backoff({ initialMs: deps.retryMs ?? 1000, maxMs: 30_000 });
    deps.events.on('batch:committed', (info) => this.record(info.partition, info.nextOffset));
    deps.events.on('joined', (partitions) => this.joined(partitions));
  }

  /** The next offset of a partition, once its PostgreSQL transaction committed. */
  record(partition: number, nextOffset: bigint): void {
    if (this.left) return;
    this.pending.set(partition, nextOffset);
    this.committedSinceJoin.add(partition);
    this.send();
  }

  /** Waiting offsets (for tests and flush). */
  waiting(): ReadonlyMap<number, bigint> {
    return this.pending;
  }

  /**
   * Before the consumer leaves its group: send what waits, and wait for it, at most `timeoutMs`
   * (a broker that does not answer must not hold up a stop; the next member mirrors again).
   */
  async flush(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.stopWaiting();
    this.flushing = true;
    try {
      this.send();
      while (this.inFlight && Date.now() < deadline) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.inFlight, new Promise((r) => (timer = setTimeout(r, deadline - Date.now())))]);
        clearTimeout(timer);
        if (this.retryTimer) return; // failed: not worth waiting longer before leaving
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The consumer left its group: what waits belonged to that membership. */
  clear(): void {
    this.left = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stopWaiting();
    this.pending.clear();
    this.assigned = undefined;
  }

  private joined(partitions: number[]) {
    this.left = false;
    const assigned = (this.assigned = new Set(partitions));
    for (const p of [...this.pending.keys()]) if (!assigned.has(p)) this.pending.delete(p);
    const committed = (this.committedSinceJoin = new Set());
    if (!partitions.length) return;
    this.deps.positions(partitions).then(
      (positions) => {
        if (this.assigned !== assigned) return; // another join since
        for (const [p, offset] of positions) if (assigned.has(p) && !committed.has(p)) this.pending.set(p, offset);
        this.send();
      },
      (err) => this.deps.log.debug('cannot read the positions to mirror after a join; the next batches mirror theirs', { err: errorMessage(err) }),
    );
  }

  private stopWaiting() {
    if (this.intervalTimer) clearTimeout(this.intervalTimer);
    this.intervalTimer = undefined;
  }

  private send() {
    if (this.left || this.inFlight || this.retryTimer || this.intervalTimer || !this.pending.size) return;
    const wait = this.flushing ? 0 : this.lastSentAt + (this.deps.intervalMs ?? 0) - Date.now();
    if (wait > 0) {
      this.intervalTimer = setTimeout(() => {
        this.intervalTimer = undefined;
        this.send();
      }, wait);
      this.intervalTimer.unref();
      return;
    }
    this.lastSentAt = Date.now();
    const sending = this.pending;
    this.pending = new Map();
    const offsets = [...sending].map(([partition, offset]) => ({ topic: this.deps.topic, partition, offset }));
    this.inFlight = this.deps.commit(offsets).then(
      () => {
        this.backoff.reset();
        this.inFlight = undefined;
        this.send();
      },
      (err) => {
        this.inFlight = undefined;
        if (this.left) return;
        // what no newer offset replaced meanwhile is sent again
        for (const [p, offset] of sending) if (!this.pending.has(p) && (!this.assigned || this.assigned.has(p))) this.pending.set(p, offset);
        this.deps.log.debug('mirroring offsets to the Kafka consumer group failed; retrying later', { err: errorMessage(err) });
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.send();
        }, this.backoff.next());
        this.retryTimer.unref();
      },
    );
  }
}

/** The mirror of one consumer of the base (index.ts): its Kafka consumer commits, PostgreSQL gives the positions. */
export function mirrorOffsets<T>(ctx: ConsumerContext<T>, consumer: Consumer): OffsetMirror {
  const { pool, groupId, topic } = ctx.options;
  return new OffsetMirror({
    topic,
    events: ctx.events,
    log: ctx.log,
    intervalMs: ctx.options.mirrorIntervalMs,
    commit: (offsets) => consumer.commitOffsets(offsets),
    async positions(partitions) {
      const stored = await storedOffsets(pool, groupId, topic);
      const at = async (p: number) => [p, stored.get(p) ?? (await ctx.logStart(p))] as const;
      return new Map(await Promise.all(partitions.map(at)));
    },
  });
}
