import { loaded } from './boot'; // first: a failure to load is one line
import { Command, InvalidArgumentError } from 'commander';
import { describeSettings, intOption, loadConfig } from '../../libs/config';
import { ConfigError } from '../../libs/errors';
import { createLogger } from '../../libs/log';
import { runMain } from '../../libs/runtime';
import { migrateDown, migrateUp, prepare, prepareTopics, reset, stackReady } from '../stack';
import { registerCommands } from './commands';

/** `dasy`: one command fronting every app (the Makefile's targets call it). */
const program = new Command('dasy')
  .description('Kafka pipeline: products CSV into PostgreSQL with exact aggregates; score and ad statistics API')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

loaded();

const logger = createLogger('dasy');

// Every setting is validated before any command runs: a bad value stops the program with one
// line naming the variable (DESIGN.md §3), whichever command was asked for.
program.hook('preAction', () => {
  try {
    loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`dasy: ${err.message}\n`);
    process.exit(2);
  }
});

program
  .command('settings')
  .description('every environment variable dasy reads, with its default and meaning')
  .action(() => {
    const rows = describeSettings();
    const width = Math.max(...rows.map((r) => r.variable.length));
    for (const r of rows) console.log(`${r.variable.padEnd(width)}  ${r.meaning}${r.default ? ` (default: ${r.default})` : ''}`);
  });

program
  .command('stack-ready')
  .description('wait until PostgreSQL (database created if missing) and Kafka answer')
  .option('--timeout <seconds>', 'give up after this long', intOption('--timeout'), 60)
  .action((opts: { timeout: number }) => runMain(async () => stackReady(loadConfig(), logger, opts.timeout * 1000)));

program
  .command('prepare')
  .description('create the namespace topics and apply migrations')
  .option('--topics-only', 'only the topics: create the missing ones, bring the settings of existing ones up to date (make up)')
  .action((opts: { topicsOnly?: boolean }) => runMain(async () => (opts.topicsOnly ? prepareTopics : prepare)(loadConfig(), logger)));

program
  .command('migrate')
  .description('apply (up) or revert (down) every migration')
  .argument('<direction>', 'up or down')
  .action((direction: string) =>
    runMain(async () => {
      const config = loadConfig();
      if (direction !== 'up' && direction !== 'down') throw new InvalidArgumentError('direction must be up or down');
      console.log(direction === 'up' ? await migrateUp(config) : await migrateDown(config));
    }),
  );

program
  .command('reset')
  .description("delete the namespace's topics, consumer state and table rows")
  .action(() => runMain(async () => console.log(await reset(loadConfig(), logger))));

registerCommands(program, logger);

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`dasy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
