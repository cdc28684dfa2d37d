/** The queue holds `maxQueued` items already: the item was not queued. */
export class QueueFullError extends Error {
  constructor(readonly maxQueued: number) {
    super(`${maxQueued} items are queued already`);
    this.name = 'QueueFullError';
  }
}

/** The item left the queue before any run took it (withdrawn, its deadline passed, or the batcher stopped). */
export class WithdrawnError extends Error {
  constructor(reason: string) {
    super(`not run: ${reason}`);
    this.name = 'WithdrawnError';
  }
}

/** How one item of a group ended: its result, or why it has none. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: Error };

/** An item submitted with a deadline: its result, and a way to take it back while it is queued. */
export interface Queued<O> {
  result: Promise<O>;
  /** Remove the item if no run took it yet (its result rejects with WithdrawnError): true if it was removed. */
  withdraw(): boolean;
}

interface Entry<I, O> {
  item: I;
  weight: number;
  /** ms since the epoch after which no run takes it */
  deadline: number;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Coalesces concurrent requests into batches: items submitted while up to `maxConcurrent` runs
 * are in flight wait and go together in the next run (at most `maxBatch` per run). With nothing
 * in flight a run starts on the next turn of the event loop, so a lone request is not delayed.
 *
 * An item never joins a run that already started: its result comes from work begun after it was
 * submitted (for reads, a snapshot taken after the request arrived).
 *
 * With `maxQueued`, at most that many items wait (a submit beyond rejects at once with
 * QueueFullError): a run that hangs (a Kafka outage) cannot make the queue grow without bound. An
 * item with a deadline is never taken by a run after it: its request was answered already.
 */
export class MicroBatcher<I, O> {
  private queue: Entry<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(
    /** results in the order of the items; throwing fails every item of the run */
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly options: {
      maxBatch: number;
      maxConcurrent: number;
      /** with maxWeight: a run takes items while their total weight fits (at least one) */
      weigh?: (item: I) => number;
      maxWeight?: number;
      /** at most this many items wait for a run */
      maxQueued?: number;
    },
  ) {}

  submit(item: I): Promise<O> {
    return this.enqueue(item).result;
  }

  /** Queue `item`; no run takes it after `deadline` (ms since the epoch). A group of one (enqueueAll). */
  enqueue(item: I, deadline = Infinity): Queued<O> {
    let group: { withdraw(): number[] } | undefined;
    const result = new Promise<O>((resolve, reject) => {
      group = this.enqueueAll([item], deadline, (_, outcome) => (outcome.ok ? resolve(outcome.value) : reject(outcome.error)));
    });
    return { result, withdraw: () => (group?.withdraw().length ?? 0) > 0 };
  }

  /**
   * Queue a group of items (a batch of pushes) with one deadline, without a promise per item:
   * `settle(i, outcome)` is called once for each item, when its run ends or it leaves the queue
   * (QueueFullError at once for an item beyond `maxQueued`). `withdraw()` removes the group's items
   * that no run took yet (each settled with WithdrawnError) and returns their indexes.
   */
  enqueueAll(items: readonly I[], deadline: number, settle: (index: number, outcome: Settled<O>) => void): { withdraw(): number[] } {
    const entries: (Entry<I, O> | undefined)[] = items.map((item, i) => {
      if (this.options.maxQueued !== undefined && this.queue.length >= this.options.maxQueued) {
        this.dropExpired();
        if (this.queue.length >= this.options.maxQueued) {
          settle(i, { ok: false, error: new QueueFullError(this.options.maxQueued) });
          return undefined;
        }
      }
      const entry: Entry<I, O> = {
        item,
        weight: this.options.weigh?.(item) ?? 0,
        deadline,
        resolve: (value) => settle(i, { ok: true, value }),
        // the runs (the api's sends and reads) reject with Errors; flush wraps a synchronous throw in one
        reject: (error) => settle(i, { ok: false, error: error as Error }),
      };
      this.queue.push(entry);
      return entry;
    });
    this.schedule();
    return {
      withdraw: () => {
        // the group's entries still queued (no run took them), in their order
        const indexOf = new Map(entries.map((e, i) => [e, i]));
        const withdrawn: number[] = [];
        this.queue = this.queue.filter((e) => {
          const i = indexOf.get(e);
          if (i !== undefined) withdrawn.push(i);
          return i === undefined;
        });
        for (const i of withdrawn) entries[i]!.reject(new WithdrawnError('withdrawn'));
        if (withdrawn.length) this.settleIdle();
        return withdrawn;
      },
    };
  }

  /** Reject every queued item (WithdrawnError); runs in flight go on. */
  clear(reason: string): void {
    for (const e of this.queue.splice(0)) e.reject(new WithdrawnError(reason));
    this.settleIdle();
  }

  /** Items no run may take any more: their deadline passed. */
  private dropExpired() {
    const now = Date.now();
    if (!this.queue.some((e) => e.deadline <= now)) return;
    const expired = this.queue.filter((e) => e.deadline <= now);
    this.queue = this.queue.filter((e) => e.deadline > now);
    for (const e of expired) e.reject(new WithdrawnError('its deadline passed'));
    this.settleIdle();
  }

  private settleIdle() {
    if (!this.queue.length && !this.inFlight) this.idle.splice(0).forEach((r) => r());
  }

  /** Resolves once nothing is queued or in flight. */
  drained(): Promise<void> {
    if (!this.queue.length && !this.inFlight) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  private schedule() {
    if (this.scheduled || this.inFlight >= this.options.maxConcurrent || !this.queue.length) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** How many queued items the next run takes. */
  private take(): number {
    const max = Math.min(this.options.maxBatch, this.queue.length);
    if (this.options.maxWeight === undefined) return max;
    let n = 0;
    let weight = 0;
    while (n < max && (n === 0 || weight + this.queue[n].weight <= this.options.maxWeight)) weight += this.queue[n++].weight;
    return n;
  }

  private flush() {
    this.dropExpired();
    while (this.inFlight < this.options.maxConcurrent && this.queue.length) {
      const batch = this.queue.splice(0, this.take());
      this.inFlight++;
      let settled: Promise<O[]>;
      try {
        settled = this.run(batch.map((b) => b.item));
      } catch (err) {
        settled = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      settled
        .then(
          (results) => batch.forEach((b, i) => b.resolve(results[i])),
          (err) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          this.inFlight--;
          if (this.queue.length) this.flush();
          else this.settleIdle();
        });
    }
  }
}
