import { classify } from '../errors/classify';
import { ConfigError, DasyError, errorMessage, InputError } from '../errors';
import { createLogger, Logger } from '../log';

/** The part this process runs, for its last-resort error lines: `dasy <command>`. */
export function partName(argv = process.argv): string {
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  return command ? `dasy ${command}` : 'dasy';
}

/**
 * A promise nobody awaited that failed is a bug, and the loop that should have awaited it may be
 * dead: a process left up doing nothing is worse than a restart, which loses nothing (a part's
 * state is in PostgreSQL, committed whole or not at all). So it ends the process with exit 1,
 * after one error line naming the part, and the part's supervisor restarts it; as Node does for
 * an exception nobody caught, which is said the same way.
 */
export function installLastResortHandlers(part = partName()): void {
  const log = createLogger(part);
  process.on('unhandledRejection', exitOnUnhandledRejection(log));
  process.on('uncaughtExceptionMonitor', (err) => {
    log.error(`uncaught exception: ${errorMessage(err)}`, { stack: err?.stack });
  });
}

/** The handler of an unhandled rejection: says it, then exits 1. */
export function exitOnUnhandledRejection(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): (reason: unknown) => void {
  return (reason) => {
    log.error(`unhandled rejection: ${errorMessage(reason)}; exiting so that it is restarted`, { kind: classify(reason), stack: (reason as Error)?.stack });
    exit(1);
  };
}

/**
 * Run a command: a user error (bad configuration, unusable input, a service that is down) is
 * one line on stderr, never a stack trace; anything else is one line too, with the detail
 * available at DASY_LOG_LEVEL=debug.
 */
export function runMain(fn: () => Promise<number | void>): void {
  installLastResortHandlers();
  fn().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err) => {
      const kind = classify(err);
      const expected = err instanceof ConfigError || err instanceof InputError || kind.endsWith('-unavailable');
      process.stderr.write(`dasy: ${errorMessage(err)}\n`);
      if (!expected) createLogger('dasy').debug('detail', { stack: (err as Error)?.stack, cause: (err as DasyError)?.cause });
      process.exitCode = err instanceof ConfigError || err instanceof InputError ? 2 : 1;
    },
  );
}
