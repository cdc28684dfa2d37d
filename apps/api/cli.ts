import { Command } from 'commander';
import { intOption, loadConfig } from '../../libs/config';
import { Logger } from '../../libs/log';
import { metricsEndpoint, metricsHostOption, metricsPortOption, MetricsOptions, runComponent, runMain } from '../../libs/runtime';
import { eventsConsumer, scoresConsumer } from '../components';
import { prepare } from '../cli/prepare';

/** The api's commands; each loads what it runs when it runs. */
export function registerApiCommands(program: Command, logger: Logger): void {
  program
    .command('api')
    .description('the HTTP api (score pushes, statistics, ad requests), with its consumers unless --no-consumers')
    .option('--port <port>', 'port to listen on (default: PORT, 3000); 0 for any free port', intOption('--port', 0, 65535))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--no-consumers', 'run the server alone (run dasy scores-consumer and dasy events-consumer elsewhere)')
    .option('--push-timeout <ms>', 'how long a push waits to be applied before answering 503', intOption('--push-timeout', 1, 3_600_000), 5000)
    .action((opts: { port?: number; host: string; consumers: boolean; pushTimeout: number }) =>
      runMain(async () => {
        const config = loadConfig();
        const [{ runApi }, { dashboardExtension }] = await Promise.all([import('./command'), import('../dashboard')]);
        const code = await runApi(config, logger, {
          port: opts.port ?? config.port,
          host: opts.host,
          consumers: opts.consumers,
          pushTimeoutMs: opts.pushTimeout,
          extend: dashboardExtension, // GET / and its data
        });
        // Stopped. A Kafka client step the stop gave up on (a broker that is down) may still hold
        // a retry timer: it does not keep the process alive for long.
        setTimeout(() => process.exit(code), 250).unref();
        return code;
      }),
    );

  for (const part of [scoresConsumer, eventsConsumer]) {
    program
      .command(part.name)
      .description(part.description)
      .addOption(metricsPortOption())
      .addOption(metricsHostOption())
      .action((opts: MetricsOptions) => runMain(async () => runComponent(part, {}, { config: loadConfig(), logger, prepare, metrics: metricsEndpoint(opts) })));
  }
}
