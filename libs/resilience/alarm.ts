/** A sleep that can be cut short: a loop waits on it, and whoever has news wakes it. */
export class Alarm {
  private ring: (() => void) | undefined;

  /** Resolves after ms, or at the next wake(), whichever comes first. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.ring === done) this.ring = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.ring = done;
    });
  }

  wake(): void {
    this.ring?.();
  }
}
