import { loaded } from '../apps/cli/boot'; // first: a failure to load is one line
import { Command } from 'commander';
import { describeSettings, DEV_SETTINGS, loadConfig, loadDevConfig } from '../libs/config';
import { ConfigError } from '../libs/errors';
import { createLogger } from '../libs/log';
import { registerBenchCommand } from '../bench';
import { registerChaosCommand } from '../chaos/command';
import { registerDevPipelineCommands } from './commands';

/**
 * The development entry point, dist/dev/main.js: the tools that are not part of the shipped `dasy`
 * (bin/dasy, apps/cli/main.ts), started by the Makefile (`make bench`, `make chaos`) and the
 * tests. Each command loads what it runs when it runs, as the shipped commands do.
 */
const program = new Command('dasy-dev')
  .description("dasy's development tools: the benchmarks, the fault scenarios, the shipped commands with their test hooks")
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

loaded();

const logger = createLogger('dasy');

// the product's settings and the development ones, validated before any command runs
program.hook('preAction', () => {
  try {
    loadConfig();
    loadDevConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`dasy: ${err.message}\n`);
    process.exit(2);
  }
});

program
  .command('settings')
  .description("the environment variables only the development tools read (`dasy settings` lists the product's)")
  .action(() => {
    const rows = describeSettings(DEV_SETTINGS);
    const width = Math.max(...rows.map((r) => r.variable.length));
    for (const r of rows) console.log(`${r.variable.padEnd(width)}  ${r.meaning}${r.default ? ` (default: ${r.default})` : ''}`);
  });

registerBenchCommand(program, logger);
registerChaosCommand(program, logger);
registerDevPipelineCommands(program, logger);

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`dasy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
