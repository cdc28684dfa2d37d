import { errorMessage, UnavailableError } from '../errors';
import { OutageNotice } from './outage';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** uniform in [0, 1): Math.random unless a test injects a seeded one */
  random?: () => number;
}

/**
 * Capped exponential backoff with full jitter, the one every retry of dasy uses: `next()` gives
 * the wait before the next attempt, drawn uniformly between 0 and a ceiling that starts at
 * `initialMs` and doubles up to `maxMs`; `reset()` after a success. Jitter, because replicas that
 * lost the same broker or database at the same instant would otherwise retry in lockstep and hit
 * it together when it comes back ("full jitter": AWS Architecture Blog, Exponential Backoff And
 * Jitter).
 */
export class Backoff {
  private current: number;
  constructor(private readonly options: BackoffOptions = {}) {
    this.current = this.initial;
  }
  private get initial() {
    return this.options.initialMs ?? 200;
  }
  /** the ceiling of the next wait (the wait without jitter) */
  get ceiling(): number {
    return this.current;
  }
  next(): number {
    const wait = Math.floor((this.options.random ?? Math.random)() * this.current);
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
  random?: () => number;
}

/** Run fn until it succeeds, waiting with backoff while its errors are retriable; any other is thrown at once. */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const backoff = new Backoff({ initialMs: options.initialMs, maxMs: options.maxMs, random: options.random });
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
