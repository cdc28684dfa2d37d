import { loaded } from '../apps/cli/boot'; // first: a failure to load is one line
import { DEV_SETTINGS, loadConfig, loadDevConfig } from '../libs/config';
import { dasyProgram, runProgram } from '../apps/cli/program';
import { createLogger } from '../libs/log';
import { registerBenchCommand } from '../bench';
import { registerChaosCommand } from '../chaos/command';
import { registerDevPipelineCommands } from './commands';

/**
 * The development entry point, dist/dev/main.js: the tools that are not part of the shipped `dasy`
 * (bin/dasy, apps/cli/main.ts), started by the Makefile (`make bench`, `make chaos`) and the
 * tests. Each command loads what it runs when it runs, as the shipped commands do.
 */
const program = dasyProgram({
  name: 'dasy-dev',
  description: "dasy's development tools: the benchmarks, the fault scenarios, the shipped commands with their test hooks",
  // the product's settings and the development ones
  validate: () => {
    loadConfig();
    loadDevConfig();
  },
  settings: { description: "the environment variables only the development tools read (`dasy settings` lists the product's)", table: DEV_SETTINGS },
});

loaded();

const logger = createLogger('dasy');

registerBenchCommand(program, logger);
registerChaosCommand(program, logger);
registerDevPipelineCommands(program, logger);

runProgram(program);
