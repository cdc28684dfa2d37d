import { Command } from 'commander';
import { Logger } from '../../libs/log';
import { registerApiCommands } from '../api/cli';
import { registerPipelineCommands } from './pipeline';
import { registerChangelogCommands } from './changelog';
import { registerMetricsCommand } from '../metrics/command';

/** The apps' commands; each app registers its own. The development tools (bench, chaos) are not among them: dev/main.ts. */
export function registerCommands(program: Command, logger: Logger): void {
  registerPipelineCommands(program, logger);
  registerChangelogCommands(program, logger);
  registerApiCommands(program, logger);
  registerMetricsCommand(program, logger);
}
