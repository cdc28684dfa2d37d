/**
 * Coalesces concurrent requests into batches: items submitted while up to `maxConcurrent` runs
 * are in flight wait and go together in the next run (at most `maxBatch` per run). With nothing
 * in flight a run starts on the next turn of the event loop, so a lone request is not delayed.
 *
 * An item never joins a run that already started: its result comes from work begun after it was
 * submitted (for reads, a snapshot taken after the request arrived).
 */
export class MicroBatcher<I, O> {
  private queue: { item: I; weight: number; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
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
    },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, weight: this.options.weigh?.(item) ?? 0, resolve, reject });
      this.schedule();
    });
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
          else if (!this.inFlight) this.idle.splice(0).forEach((r) => r());
        });
    }
  }
}
