import { SETTINGS } from '../config/settings';

/**
 * Progress for humans: one line redrawn on a TTY (stderr), nothing at all otherwise, so logs
 * and pipes stay quiet.
 */
export interface Progress {
  update(line: string): void;
  done(): void;
}

/** CI (a bad value is refused by loadConfig at start). */
function inCi(): boolean {
  try {
    return SETTINGS.ci.parse(process.env[SETTINGS.ci.variable]);
  } catch {
    return true;
  }
}

/** Whether progress lines are drawn here: stderr is a terminal, outside CI. */
export function progressShown(): boolean {
  return Boolean(process.stderr.isTTY) && !inCi();
}

export function createProgress(enabled = progressShown()): Progress {
  if (!enabled) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  return {
    update(line) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      shown = true;
      const width = process.stderr.columns || 100;
      process.stderr.write('\r' + line.slice(0, width - 1).padEnd(width - 1));
    },
    done() {
      if (shown) process.stderr.write('\r' + ' '.repeat((process.stderr.columns || 100) - 1) + '\r');
      shown = false;
    },
  };
}

export function rate(count: number, ms: number): string {
  return ms > 0 ? Math.round((count * 1000) / ms).toLocaleString('en-US') : '0';
}

export function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1) + ' MiB';
}
