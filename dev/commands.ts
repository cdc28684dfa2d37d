import * as fs from 'fs';
import { Command, Option } from 'commander';
import { Logger } from '../libs/log';
import { registerIngestCommand, registerRelayCommand } from '../apps/cli/pipeline';
import { killAfterSend } from './faults';

/**
 * The shipped commands the development tools need with one more option each, the same commands
 * otherwise (apps/cli/pipeline.ts): `ingest --phases-file` (the bench times each phase of an
 * ingest) and `product-count-producer --kill-after-send` (a fault of the e2e suite).
 */
export function registerDevPipelineCommands(program: Command, logger: Logger): void {
  registerIngestCommand(program, logger, {
    option: new Option('--phases-file <file>', 'write the time of each phase there (JSON), for dasy bench'),
    onPhases: (opts) => {
      const file = opts.phasesFile;
      return typeof file === 'string' ? (phases) => fs.writeFileSync(file, JSON.stringify(phases)) : undefined;
    },
  });
  registerRelayCommand(program, logger, {
    option: new Option('--kill-after-send', 'a fault: SIGKILL this process once a drain was acknowledged, before its marks are deleted'),
    afterSend: (opts) => (opts.killAfterSend === true ? killAfterSend : undefined),
  });
}
