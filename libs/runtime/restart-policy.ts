import { Backoff } from '../resilience';

export interface RestartPolicyOptions {
  /** a part that ran this long before it died was not failing at its start: restarted at once */
  stableMs?: number;
  /** the backoff between restarts of a part that keeps dying soon after its start */
  initialMs?: number;
  maxMs?: number;
  random?: () => number;
}

/**
 * When a supervisor restarts a part that exited without being told to. What counts is how long
 * it ran, not how it ended: an exit code, a SIGKILL, the SIGABRT of a part that hit its heap cap
 * are all the same failure. A part that ran for `stableMs` and then died (killed from outside,
 * say) is restarted at once, and so is the first of a run of early deaths; from the second death
 * in a row soon after its start, it waits a growing, jittered backoff, so a part that cannot live
 * is never restarted in a loop.
 */
export class RestartPolicy {
  private earlyDeaths = 0;
  private readonly backoff: Backoff;
  private readonly stableMs: number;

  constructor(options: RestartPolicyOptions = {}) {
    this.stableMs = options.stableMs ?? 30_000;
    this.backoff = new Backoff({ initialMs: options.initialMs ?? 300, maxMs: options.maxMs ?? 10_000, random: options.random });
  }

  /** The wait (ms) before restarting a part that ran `ranMs` before it exited. */
  delayAfter(ranMs: number): number {
    if (ranMs >= this.stableMs) {
      this.earlyDeaths = 0;
      this.backoff.reset();
      return 0;
    }
    return ++this.earlyDeaths === 1 ? 0 : this.backoff.next();
  }
}
