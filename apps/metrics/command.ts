import { Command } from 'commander';
import { intOption, loadConfig } from '../../libs/config';
import { Logger } from '../../libs/log';
import { runComponent, runMain } from '../../libs/runtime';
import { metricsExporter } from '../components';
import { METRICS_PORT } from './index';

/** `dasy metrics`: the exporter on its own. It only reads: it prepares no topics and no migrations. */
export function registerMetricsCommand(program: Command, logger: Logger): void {
  program
    .command('metrics')
    .description(metricsExporter.description)
    .option('--port <port>', 'port to listen on; 0 for any free port', intOption('--port', 0, 65535), METRICS_PORT)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action((opts: { port: number; host: string }) =>
      runMain(async () =>
        runComponent(metricsExporter, { port: opts.port, host: opts.host }, { config: loadConfig(), logger, prepare: async () => undefined }),
      ),
    );
}
