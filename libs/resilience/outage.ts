import { Logger } from '../log';

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
export function outageNotice(
  logger: Logger,
  what: string,
  quietMs = 0,
  graceMs = 0,
  /** the two lines, when not "<what> unavailable (reason); retrying with backoff" and "<what> reachable again; resuming" */
  lines: { down(reason: string): string; up: string } = {
    down: (reason) => `${what} unavailable (${reason}); retrying with backoff`,
    up: `${what} reachable again; resuming`,
  },
): OutageNotice {
  let down = false;
  let lastFailure = 0;
  let reason = '';
  let pending: NodeJS.Timeout | undefined;
  const announce = () => {
    pending = undefined;
    if (down) return;
    down = true;
    logger.warn(lines.down(reason));
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
      logger.warn(lines.up);
    },
    get down() {
      return down;
    },
  };
}
