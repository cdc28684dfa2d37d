import { Command } from 'commander';
import { Logger } from '../../libs/log';
import { registerApiCommands } from '../api/cli';
import { registerPipelineCommands } from './pipeline';
import { registerChangelogCommands } from './changelog';
import { registerChaosCommand } from '../chaos/command';
import { registerMetricsCommand } from '../metrics/command';
import { registerBenchCommand } from '../../bench';

/** The apps' commands; each app registers its own. */
export function registerCommands(program: Command, logger: Logger): void {
  registerPipelineCommands(program, logger);
  registerChangelogCommands(program, logger);
  registerApiCommands(program, logger);
  registerMetricsCommand(program, logger);
  registerChaosCommand(program, logger);
  registerBenchCommand(program, logger);
}
