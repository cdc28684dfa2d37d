import { loaded } from './boot'; // first: a failure to load is one line
import './own-caps'; // second: a part's memory caps, before the rest loads
import { InvalidArgumentError } from 'commander';
import { intOption, loadConfig } from '../../libs/config';
import { createLogger } from '../../libs/log';
import { runMain } from '../../libs/runtime';
import { migrateDown, migrateUp, prepare, prepareTopics, reset, stackReady } from '../stack';
import { registerCommands } from './commands';
import { dasyProgram, runProgram } from './program';

/** `dasy`: one command fronting every app (the Makefile's targets call it). */
const program = dasyProgram({
  name: 'dasy',
  description: 'Kafka pipeline: products CSV into PostgreSQL with exact aggregates; score and ad statistics API',
  validate: () => void loadConfig(),
  settings: { description: 'every environment variable dasy reads, with its default and meaning' },
});

loaded();

const logger = createLogger('dasy');

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
  .option('--dataset <spec>', "up: then make a declared dataset's tables and topics (datasets/<name>.yaml), or evolve them to a changed spec")
  .action((direction: string, opts: { dataset?: string }) =>
    runMain(async () => {
      const config = loadConfig();
      if (direction !== 'up' && direction !== 'down') throw new InvalidArgumentError('direction must be up or down');
      if (opts.dataset && direction === 'down') throw new InvalidArgumentError('--dataset goes with up (down reverts every migration, datasets included)');
      console.log(direction === 'up' ? await migrateUp(config) : await migrateDown(config));
      if (opts.dataset) {
        const { prepareDataset, describeTables } = await import('../datasets/prepare');
        const { spec, tables } = await prepareDataset(config, logger, opts.dataset);
        console.log(describeTables(spec, tables));
      }
    }),
  );

program
  .command('reset')
  .description("delete the namespace's topics, consumer state and table rows")
  .action(() => runMain(async () => console.log(await reset(loadConfig(), logger))));

registerCommands(program, logger);

runProgram(program);
