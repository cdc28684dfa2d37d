import { Command } from 'commander';
import { describeSettings, Setting } from '../../libs/config';
import { ConfigError } from '../../libs/errors';

/**
 * A dasy entry point's command line (the shipped `dasy`, apps/cli/main.ts, and the development
 * one, dev/main.ts): every setting validated before any command runs — a bad value stops the
 * program with one line naming the variable (DESIGN.md §3), whichever command was asked for —
 * and a `settings` command listing the ones it reads.
 */
export function dasyProgram(options: {
  name: string;
  description: string;
  /** loads (and so validates) every setting the program reads; throws a ConfigError */
  validate: () => void;
  settings: { description: string; table?: Record<string, Setting<unknown>> };
}): Command {
  const program = new Command(options.name)
    .description(options.description)
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });
  program.hook('preAction', () => {
    try {
      options.validate();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`dasy: ${err.message}\n`);
      process.exit(2);
    }
  });
  program
    .command('settings')
    .description(options.settings.description)
    .action(() => {
      const rows = describeSettings(options.settings.table);
      const width = Math.max(...rows.map((r) => r.variable.length));
      for (const r of rows) console.log(`${r.variable.padEnd(width)}  ${r.meaning}${r.default ? ` (default: ${r.default})` : ''}`);
    });
  return program;
}

/** Runs the command the arguments name; a failure of the command line itself is one line, exit 2. */
export function runProgram(program: Command): void {
  program.parseAsync(process.argv).catch((err) => {
    process.stderr.write(`dasy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}
