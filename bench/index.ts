import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, intOption } from '../libs/config';
import { Logger } from '../libs/log';
import { runMain } from '../libs/runtime';
import { Workload, WORKLOADS } from './workloads';

/**
 * `dasy bench [--quick]` (`make bench [QUICK=1]`): every workload's figures next to a floor
 * measured in the same run, median of N runs after a warm-up (min and max beside), printed as a
 * table and written to bench/results/<date>.json. The work is in ./run, loaded only when the
 * command runs (it pulls in the migrations and the load generator).
 */

export function registerBenchCommand(program: Command, logger: Logger): void {
  program
    .command('bench')
    .description('the benchmarks: figures and their ratio to a floor measured in the same run (bench/results/<date>.json)')
    .option('--quick', '50,000 rows and short loads: the whole bench in under 3 minutes')
    .option('--runs <n>', 'measured runs per workload (after the warm-up)', intOption('--runs'), 3)
    .option('--warmups <n>', 'runs before the measured ones, not counted', intOption('--warmups', 0, 10), 1)
    .option('--only <list>', `a subset of ${WORKLOADS.join(',')}`)
    .option('--rows <n>', 'rows of the ingest workloads (default 500,000; 50,000 with --quick)', intOption('--rows'))
    .option('--scale-rows <n>', 'rows of the size workload (default 2,000,000; 100,000 with --quick)', intOption('--scale-rows'))
    .action((opts: { quick?: boolean; runs: number; warmups: number; only?: string; rows?: number; scaleRows?: number }) =>
      runMain(async () => {
        const only = (opts.only ? opts.only.split(',').map((s) => s.trim()) : [...WORKLOADS]) as Workload[];
        for (const w of only) if (!WORKLOADS.includes(w)) throw new InvalidArgumentError(`--only: unknown workload ${w} (${WORKLOADS.join(', ')})`);
        const { bench } = await import('./run');
        return bench(loadConfig(), logger, { quick: !!opts.quick, runs: opts.runs, warmups: opts.warmups, only, rows: opts.rows, scaleRows: opts.scaleRows });
      }),
    );
}
