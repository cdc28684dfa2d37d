import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../libs/config';
import { createLogger } from '../../libs/log';
import { runMain } from '../../libs/runtime';
import { migrateDown, migrateUp, prepare, reset, stackReady } from '../stack';
import { registerCommands } from './commands';

/** `dasy`: one command fronting every app (the Makefile's targets call it). */
const program = new Command('dasy')
  .description('Kafka pipeline: products CSV into PostgreSQL with exact aggregates; score and ad statistics API')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

export function positiveInt(name: string) {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
    return Number(value);
  };
}

const logger = createLogger('dasy');

program
  .command('stack-ready')
  .description('wait until PostgreSQL (database created if missing) and Kafka answer')
  .option('--timeout <seconds>', 'give up after this long', positiveInt('--timeout'), 60)
  .action((opts: { timeout: number }) => runMain(async () => stackReady(loadConfig(), logger, opts.timeout * 1000)));

program
  .command('prepare')
  .description('create the namespace topics and apply migrations')
  .action(() => runMain(async () => prepare(loadConfig(), logger)));

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
