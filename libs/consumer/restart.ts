import { errorMessage } from '../errors';
import { Logger } from '../log';
import { Backoff, sleep } from '../resilience/backoff';

/**
 * Starts the kafkajs consumer again after a crash it will not recover from itself (it is told
 * never to restart: its own restart can race with stop() and leave a runner consuming after its
 * consumer was disconnected). Backoff until it runs or the consumer stops. A crash while a
 * restart is under way (the new runner crashed before start returned) calls for one more once
 * that one ends, or the consumer would stay stopped and the process idle out.
 */
export class Restarter {
  private restarting = false;
  private crashedMeanwhile = false;

  constructor(
    private readonly deps: {
      start: () => Promise<void>;
      /** running and not stopping */
      active: () => boolean;
      log: Logger;
    },
  ) {}

  crashed(): void {
    if (!this.deps.active()) return;
    if (this.restarting) {
      this.crashedMeanwhile = true;
      return;
    }
    this.restarting = true;
    const ended = () => {
      this.restarting = false;
      if (this.crashedMeanwhile) this.crashed();
    };
    this.restartUntilRunning().then(ended, ended);
  }

  private async restartUntilRunning(): Promise<void> {
    const backoff = new Backoff({ initialMs: 500 });
    while (this.deps.active()) {
      await sleep(backoff.next());
      if (!this.deps.active()) return;
      // only a crash of the runner this attempt starts calls for another restart
      this.crashedMeanwhile = false;
      try {
        await this.deps.start();
        return;
      } catch (err) {
        this.deps.log.debug('restarting the consumer failed; retrying', { err: errorMessage(err) });
      }
    }
  }
}
