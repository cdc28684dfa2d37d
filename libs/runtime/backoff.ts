import { errorMessage, UnavailableError } from '../errors';
import { OutageNotice } from './outage';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Capped exponential backoff, the one every retry of dasy uses: `next()` gives the wait before the
 * next attempt (initial, doubling up to max), `reset()` after a success.
 */
export class Backoff {
  private current: number;
  constructor(private readonly options: { initialMs?: number; maxMs?: number } = {}) {
    this.current = this.initial;
  }
  private get initial() {
    return this.options.initialMs ?? 200;
  }
  next(): number {
    const wait = this.current;
    this.current = Math.min(this.current * 2, this.options.maxMs ?? 5000);
    return wait;
  }
  reset(): void {
    this.current = this.initial;
  }
}

export interface RetryOptions {
  /** whether an error is worth another attempt (by its class and code: libs/errors/classify.ts) */
  isRetriable: (err: unknown) => boolean;
  /** says the outage once, and its end */
  notice?: OutageNotice;
  /** stop waiting: the last error is thrown */
  stopped?: () => boolean;
  /** give up after this long, with an UnavailableError naming `what` */
  timeoutMs?: number;
  what?: string;
  initialMs?: number;
  maxMs?: number;
}

/** Run fn until it succeeds, waiting with backoff while its errors are retriable; any other is thrown at once. */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const backoff = new Backoff({ initialMs: options.initialMs, maxMs: options.maxMs });
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  for (;;) {
    try {
      const result = await fn();
      options.notice?.ok();
      return result;
    } catch (err) {
      if (!options.isRetriable(err) || options.stopped?.()) throw err;
      const wait = backoff.next();
      if (Date.now() + wait > deadline) throw new UnavailableError(`${options.what ?? 'gave up'}: ${errorMessage(err)}`, err);
      options.notice?.failed(errorMessage(err));
      await sleep(wait);
    }
  }
}
