import { ConfigError, DasyError, errorMessage, InputError, UnavailableError } from '../errors';
import { createLogger, Logger } from '../log';

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Run a command: a user error (bad configuration, unusable input, a service that is down) is
 * one line on stderr, never a stack trace; anything else is one line too, with the detail
 * available at DASY_LOG_LEVEL=debug.
 */
export function runMain(fn: () => Promise<number | void>): void {
  fn().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err) => {
      const expected = err instanceof ConfigError || err instanceof InputError || err instanceof UnavailableError;
      process.stderr.write(`dasy: ${errorMessage(err)}\n`);
      if (!expected) createLogger('dasy').debug('detail', { stack: (err as Error)?.stack, cause: (err as DasyError)?.cause });
      process.exitCode = err instanceof ConfigError || err instanceof InputError ? 2 : 1;
    },
  );
}

/**
 * Keep long-running components up until SIGTERM/SIGINT, then stop them (each finishes or
 * abandons its batch in flight) and resolve. A second signal exits at once.
 */
export function untilSignal(components: Stoppable[], onStop?: () => void): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = () => {
      if (stopping) process.exit(130);
      stopping = true;
      onStop?.();
      Promise.allSettled(components.map((c) => c.stop())).then(() => resolve());
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retry fn with capped exponential backoff until it succeeds or the deadline passes. */
export async function retryUntil<T>(what: string, fn: () => Promise<T>, opts: { timeoutMs: number; onFirstFailure?: (err: unknown) => void }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = 100;
  let failures = 0;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (failures++ === 0) opts.onFirstFailure?.(err);
      if (Date.now() + delay > deadline) throw new UnavailableError(`${what}: ${errorMessage(err)}`, err);
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
  }
}

/** Says once that a dependency is unavailable and once that it is back, however many attempts fail in between. */
export interface OutageNotice {
  /** a failed attempt: announced only when not already down */
  failed(reason: string): void;
  /** a successful attempt: ends an announced outage once `quietMs` passed since the last failure */
  ok(): void;
  readonly down: boolean;
}

/**
 * `quietMs`: an announced outage ends only once no attempt failed for that long (a flapping
 * dependency makes one outage, not many). `graceMs`: a failure is announced only if no attempt
 * succeeds within that time (transient states that the client retries at once, such as a group
 * coordinator still loading, are not outages).
 */
export function outageNotice(logger: Logger, what: string, quietMs = 0, graceMs = 0): OutageNotice {
  let down = false;
  let lastFailure = 0;
  let reason = '';
  let pending: NodeJS.Timeout | undefined;
  const announce = () => {
    pending = undefined;
    if (down) return;
    down = true;
    logger.warn(`${what} unavailable (${reason}); retrying with backoff`);
  };
  return {
    failed(why: string) {
      lastFailure = Date.now();
      if (down || pending) return;
      reason = why;
      if (graceMs <= 0) return announce();
      pending = setTimeout(announce, graceMs);
      pending.unref();
    },
    ok() {
      if (pending) {
        clearTimeout(pending);
        pending = undefined;
      }
      if (!down || Date.now() - lastFailure < quietMs) return;
      down = false;
      logger.warn(`${what} reachable again; resuming`);
    },
    get down() {
      return down;
    },
  };
}

/**
 * Run fn until it succeeds, retrying (backoff 200 ms doubling to 5 s) while its errors are
 * retriable; any other error is thrown at once. The outage is said once through `notice`.
 * `stopped()` ends the wait: the last error is thrown.
 */
export async function retryWhileUnavailable<T>(
  fn: () => Promise<T>,
  options: { isRetriable: (err: unknown) => boolean; notice?: OutageNotice; stopped?: () => boolean; maxDelayMs?: number },
): Promise<T> {
  let delay = 200;
  for (;;) {
    try {
      const result = await fn();
      options.notice?.ok();
      return result;
    } catch (err) {
      if (!options.isRetriable(err) || options.stopped?.()) throw err;
      options.notice?.failed(errorMessage(err));
      await sleep(delay);
      delay = Math.min(delay * 2, options.maxDelayMs ?? 5000);
    }
  }
}
