import { Pool } from 'pg';
import { listen, Listener } from '../../libs/db/listener';
import { storedOffsets } from '../../libs/db/offsets';
import { DasyError, errorMessage } from '../../libs/errors';
import { Logger } from '../../libs/log';
import { MicroBatcher } from './batcher';
import { AppliedBatch, appliedChannel, PROCESS_ORIGIN } from './applied-channel';
import { CurrentStats } from './store';

export class NotAppliedError extends DasyError {
  constructor(
    readonly partition: number,
    readonly offset: bigint,
    readonly timeoutMs: number,
  ) {
    super(`message ${offset} of partition ${partition} was not applied within ${timeoutMs} ms`, { retriable: true });
  }
}

/**
 * How a waited-for message ended: applied or dead-lettered, as the applying batch in this process
 * told; or `passed`: its partition's applied offset moved past it (a notification, the stored
 * offsets), which a dead-lettered message does too: deadLetterOf() tells them apart.
 */
export type Outcome = { kind: 'applied'; stats: CurrentStats | undefined } | { kind: 'dead-lettered'; reason: string } | { kind: 'passed' };

/** A message waited for; `done` is called once, when it is past (a group's timeout ends the others' waits). */
interface Waiter {
  offset: bigint;
  name: string | undefined;
  since: number;
  done: (outcome: Outcome) => void;
}

const PASSED: Outcome = Object.freeze({ kind: 'passed' });

/** The dead letters (of the scores consumer group) among some offsets: migrations/1732300004000. */
const DEAD_LETTERS = `SELECT kafka_partition AS partition, kafka_offset AS offset, reason FROM score_dead_letters
    WHERE group_id = $1 AND (kafka_partition, kafka_offset) IN (SELECT * FROM unnest($2::integer[], $3::bigint[]))`;

/**
 * What this process knows of the scores consumer group's applied offsets, and the requests waiting
 * for their own message to be applied (read-your-writes). Knowledge comes from three sources, so
 * it holds whichever process consumes the partition:
 * - the in-process consumer's afterCommit (advance());
 * - one dedicated LISTEN connection, re-established when lost; after every (re)connect the stored
 *   offsets are read again, so a notification missed while it was down is never waited for;
 * - while a request has waited longer than `pollAfterMs`, a poll of the stored offsets (a safety net).
 */
export class AppliedTracker {
  private readonly known = new Map<number, bigint>();
  private readonly waiters = new Map<number, Waiter[]>();
  private listener: Listener | undefined;
  private stopping = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  readonly channel: string;
  private readonly log: Logger;
  private observeWait: ((seconds: number) => void) | undefined;
  private readonly deadLetters: MicroBatcher<{ partition: number; offset: bigint }, string | undefined>;

  constructor(
    private readonly options: {
      databaseUrl: string;
      pool: Pool;
      group: string;
      topic: string;
      logger: Logger;
      pollAfterMs?: number;
      /** set when this process runs the scores consumer and calls advance() after each commit */
      ignoreOwn?: boolean;
    },
  ) {
    this.channel = appliedChannel(options.group);
    this.log = options.logger.namespace('applied');
    this.deadLetters = new MicroBatcher((keys) => this.readDeadLetters(keys), { maxBatch: 512, maxConcurrent: 2 });
  }

  async start(): Promise<void> {
    this.listener = listen({
      databaseUrl: this.options.databaseUrl,
      channel: this.channel,
      applicationName: 'dasy-api-listen',
      logger: this.log,
      onNotification: (payload) => this.onNotification(payload),
      // anything committed before LISTEN took effect is in the stored offsets
      onConnected: () => this.refresh(),
      announce: { down: (reason) => `lost the LISTEN connection (${reason}); reconnecting`, up: 'listening for applied offsets again' },
    });
    this.pollTimer = setInterval(() => {
      this.pollIfStuck().catch(() => undefined);
    }, 250);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.listener?.stop();
  }

  /**
   * The partition's applied offset moved to `nextOffset` (every message before it is applied or
   * dead-lettered). `batch`: what the batch that moved it did, when known (in-process consumer):
   * a waiter learns from it whether its message was applied, and gets its name's committed
   * statistics without a query.
   */
  advance(partition: number, nextOffset: bigint, batch?: AppliedBatch): void {
    const current = this.known.get(partition);
    if (current !== undefined && current >= nextOffset) return;
    this.known.set(partition, nextOffset);
    const list = this.waiters.get(partition);
    if (!list) return;
    const still: Waiter[] = [];
    for (const w of list) {
      if (w.offset < nextOffset) {
        this.observeWait?.((Date.now() - w.since) / 1000);
        w.done(outcome(w, batch));
      } else still.push(w);
    }
    if (still.length) this.waiters.set(partition, still);
    else this.waiters.delete(partition);
  }

  /**
   * Waits for a group of messages (one push's, or a batch's) with one timer: resolves once every
   * one is past (applied or dead-lettered), each with what the applying batch told about it when
   * it was this process's, or after timeoutMs with NotAppliedError for those that are not.
   */
  waitAppliedAll(messages: readonly { partition: number; offset: bigint; name?: string }[], timeoutMs: number): Promise<(Outcome | NotAppliedError)[]> {
    return new Promise((resolve) => {
      const results = new Array<Outcome | NotAppliedError | undefined>(messages.length);
      let left = messages.length;
      // called by advance() only, after the timer below is set
      const finish = () => {
        clearTimeout(timer);
        resolve(results as (Outcome | NotAppliedError)[]);
      };
      const since = Date.now();
      const waiting = new Map<Waiter, { partition: number; index: number }>();
      messages.forEach(({ partition, offset, name }, i) => {
        const known = this.known.get(partition);
        if (known !== undefined && known > offset) {
          this.observeWait?.(0);
          results[i] = PASSED;
          left--;
          return;
        }
        const waiter: Waiter = {
          offset,
          name,
          since,
          done: (o) => {
            results[i] = o;
            waiting.delete(waiter);
            if (--left === 0) finish();
          },
        };
        waiting.set(waiter, { partition, index: i });
        let list = this.waiters.get(partition);
        if (!list) this.waiters.set(partition, (list = []));
        list.push(waiter);
      });
      if (left === 0) return resolve(results as Outcome[]);
      const timer = setTimeout(() => {
        const partitions = new Set<number>();
        for (const [waiter, { partition, index }] of waiting) {
          partitions.add(partition);
          results[index] = new NotAppliedError(partition, waiter.offset, timeoutMs);
        }
        for (const partition of partitions) {
          const list = this.waiters.get(partition)?.filter((w) => !waiting.has(w));
          if (list?.length) this.waiters.set(partition, list);
          else this.waiters.delete(partition);
        }
        finish();
      }, timeoutMs);
    });
  }

  /** Told how long each wait for an applied message lasted, in seconds (the api's metrics). */
  observeWaits(observer: (seconds: number) => void): void {
    this.observeWait = observer;
  }

  /** The reason the message at `offset` of `partition` was dead-lettered; undefined if it was not. */
  deadLetterOf(partition: number, offset: bigint): Promise<string | undefined> {
    return this.deadLetters.submit({ partition, offset });
  }

  private async readDeadLetters(keys: { partition: number; offset: bigint }[]): Promise<(string | undefined)[]> {
    const { rows } = await this.options.pool.query<{ partition: number; offset: string; reason: string }>({
      name: 'dasy_api_dead_letters',
      text: DEAD_LETTERS,
      values: [this.options.group, keys.map((k) => k.partition), keys.map((k) => k.offset.toString())],
    });
    const found = new Map(rows.map((r) => [`${r.partition}:${r.offset}`, r.reason]));
    return keys.map((k) => found.get(`${k.partition}:${k.offset}`));
  }

  appliedOffsets(): Map<number, bigint> {
    return new Map(this.known);
  }

  listening(): boolean {
    return this.listener?.connected ?? false;
  }

  /** Read the stored offsets (they only move forward) and wake whoever they satisfy. */
  async refresh(): Promise<void> {
    const stored = await storedOffsets(this.options.pool, this.options.group, this.options.topic);
    for (const [partition, offset] of stored) this.advance(partition, offset);
  }

  private onNotification(payload: string) {
    const m = /^(\d+):(\d+):(.*)$/.exec(payload);
    // This process's own consumer reports its batches through advance(), with their statistics;
    // the same batch's notification may arrive first and would wake the waiters without them.
    if (!m || (this.options.ignoreOwn && m[3] === PROCESS_ORIGIN)) return;
    this.advance(Number(m[1]), BigInt(m[2]));
  }

  private async pollIfStuck() {
    if (this.polling || this.stopping) return;
    const threshold = Date.now() - (this.options.pollAfterMs ?? 500);
    let stuck = !this.listening() && this.waiters.size > 0;
    if (!stuck) {
      for (const list of this.waiters.values()) {
        if (list.some((w) => w.since < threshold)) {
          stuck = true;
          break;
        }
      }
    }
    if (!stuck) return;
    this.polling = true;
    try {
      await this.refresh();
    } catch (err) {
      this.log.debug(`polling stored offsets failed: ${errorMessage(err)}`);
    } finally {
      this.polling = false;
    }
  }
}

function outcome(w: Waiter, batch: AppliedBatch | undefined): Outcome {
  if (!batch) return PASSED;
  const reason = batch.deadLettered.get(w.offset);
  if (reason !== undefined) return { kind: 'dead-lettered', reason };
  return { kind: 'applied', stats: w.name === undefined ? undefined : batch.stats.get(w.name) };
}
