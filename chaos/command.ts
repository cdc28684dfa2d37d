import { Command, InvalidArgumentError } from 'commander';
import { intOption, loadConfig, loadDevConfig } from '../libs/config';
import { Logger } from '../libs/log';
import { runMain } from '../libs/runtime';
import { Scenario, SCENARIOS } from './world';

function parseScenarios(value: string): Scenario[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names)
    if (!(SCENARIOS as readonly string[]).includes(n)) throw new InvalidArgumentError(`unknown scenario ${JSON.stringify(n)}; one of ${SCENARIOS.join(', ')}`);
  return names as Scenario[];
}

/** `dasy chaos` (`make chaos`); the scenarios load when it runs. */
export function registerChaosCommand(program: Command, logger: Logger): void {
  program
    .command('chaos')
    .description(
      'ingest while injecting faults (SIGKILLs, broker and PostgreSQL restarts, a 3-broker cluster losing a node, bad input); check the tables are exact',
    )
    .option('--scenario <names>', `comma-separated, of: ${SCENARIOS.join(', ')} (default: all)`, parseScenarios)
    .option('--rows <n>', 'records per generated file', intOption('--rows'), 40000)
    .option('--seed <n>', 'random seed of the generated files', intOption('--seed'), 1)
    .action((opts: { scenario?: Scenario[]; rows: number; seed: number }) =>
      runMain(async () =>
        (await import('./index')).chaos({
          config: loadConfig(),
          dev: loadDevConfig(),
          logger,
          scenarios: opts.scenario ?? [...SCENARIOS],
          rows: opts.rows,
          seed: opts.seed,
        }),
      ),
    );
}
