import { classify } from '../errors/classify';
import { ConfigError, DasyError, errorMessage, InputError } from '../errors';
import { createLogger } from '../log';

/** The part this process runs, for its last-resort error lines: `dasy <command>`. */
export function partName(argv = process.argv): string {
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  return command ? `dasy ${command}` : 'dasy';
}

/**
 * A promise nobody awaited that failed is a bug, but not a reason to take a running part down
 * (its state is in PostgreSQL, committed whole or not at all): say it, as an error naming the
 * part, and go on. An exception nobody caught still ends the process, after the same line.
 */
export function installLastResortHandlers(part = partName()): void {
  const log = createLogger(part);
  process.on('unhandledRejection', (reason) => {
    log.error(`unhandled rejection: ${errorMessage(reason)}`, { kind: classify(reason), stack: (reason as Error)?.stack });
  });
  process.on('uncaughtExceptionMonitor', (err) => {
    log.error(`uncaught exception: ${errorMessage(err)}`, { stack: err?.stack });
  });
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
