import { Command, Option } from 'commander';
import { intOption as count, DasyConfig, loadConfig } from '../../libs/config';
import { Logger } from '../../libs/log';
import { metricsArgs, metricsEndpoint, metricsHostOption, metricsPortOption, MetricsOptions, runComponent, runMain, Supervisor } from '../../libs/runtime';
import { datasetAggregates, datasetConsumer, productCountConsumer, productCountFollowers, productCountRelay, productsConsumer } from '../components';
import { RELAY_DEFAULTS } from '../product-count-producer/defaults';
import type { PhaseTimings } from '../pipeline';
import { prepare } from './prepare';

// Each command loads what it runs when it runs (a forked part starts in less time and CPU).

/** The products pipeline's commands (data, producers, consumers, ingest, status). */
export function registerPipelineCommands(program: Command, logger: Logger): void {
  program
    .command('data')
    .description('write a products CSV shaped like the real dataset (deterministic per seed)')
    .option('--rows <n>', 'records', count('ROWS'), 500000)
    .option('--seed <n>', 'random seed', count('SEED', 1, 2 ** 31), 1)
    .option('--out <file>', 'where to write', 'data/products.csv')
    .action((opts: { rows: number; seed: number; out: string }) =>
      runMain(async () => {
        const { generateProducts } = await import('../data/generate');
        const started = Date.now();
        const r = await generateProducts({ rows: opts.rows, seed: opts.seed, out: opts.out });
        console.log(
          `wrote ${r.file}: ${r.rows} records, ${r.distinctSkus} distinct skus, ${r.distinctNames} distinct names, ${(r.bytes / 1048576).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
      }),
    );

  program
    .command('products-producer')
    .description('stream a products CSV into <ns>.products; exits when everything is acknowledged')
    .option('--file <file>', 'the CSV file', 'data/products.csv')
    .option('--rejects <file>', 'where rejected records go (CSV line,reason,raw); default data/rejects/<name>.rejects.csv')
    .option('--delete', 'the file is a CSV with a sku column: send one tombstone per sku (deletes them once applied)')
    .action((opts: { file: string; rejects?: string; delete?: boolean }) =>
      runMain(async () => {
        const config = loadConfig();
        const [{ checkProductsHeader, checkSkusHeader }, { produceProducts }, { produceTombstones }] = await Promise.all([
          import('../../libs/csv/reader'),
          import('../products-producer'),
          import('../products-producer/tombstones'),
        ]);
        await (opts.delete ? checkSkusHeader : checkProductsHeader)(opts.file);
        await prepare(config, logger);
        const s = await (opts.delete ? produceTombstones : produceProducts)({ config, logger, file: opts.file, rejectsFile: opts.rejects });
        console.log(
          `products-producer: ${s.records} records, ${s.accepted} ${opts.delete ? 'tombstones ' : ''}sent, ${s.rejected} rejected (${s.rejectsFile}) in ${s.seconds.toFixed(1)} s`,
        );
      }),
    );

  program
    .command('products-consumer')
    .description(`${productsConsumer.description}: N processes of one consumer group`)
    .option('--consumers <n>', 'processes (with --metrics-port P, process i serves on P+i)', count('CONSUMERS', 1, 64), 2)
    .addOption(metricsPortOption())
    .addOption(metricsHostOption())
    .action((opts: { consumers: number } & MetricsOptions) =>
      runMain(async () => {
        const config = loadConfig();
        if (opts.consumers === 1) return runComponent(productsConsumer, {}, { config, logger, prepare, metrics: metricsEndpoint(opts) });
        // N processes of one group, each preparing the namespace (idempotent) as if run alone
        const replicas = Array.from({ length: opts.consumers }, (_, i) => ({
          args: ['products-consumer', '--consumers', '1', ...metricsArgs(metricsEndpoint(opts, i))],
          heapMb: productsConsumer.heapMb,
        }));
        await new Supervisor(replicas, { logger }).untilSignal();
      }),
    );

  registerRelayCommand(program, logger);

  program
    .command('product-count-consumer')
    .description(productCountConsumer.description)
    .addOption(metricsPortOption())
    .addOption(metricsHostOption())
    .action((opts: MetricsOptions) =>
      runMain(async () => runComponent(productCountConsumer, {}, { config: loadConfig(), logger, prepare, metrics: metricsEndpoint(opts) })),
    );

  const followers = program.command(productCountFollowers.name).description(productCountFollowers.description);
  relayOptions(followers, 'name').action((opts: { maxDelay: number; quiet: number } & MetricsOptions) =>
    runMain(async () =>
      runComponent(
        productCountFollowers,
        { maxDelayMs: opts.maxDelay, quietMs: opts.quiet },
        { config: loadConfig(), logger, prepare, metrics: metricsEndpoint(opts) },
      ),
    ),
  );

  registerIngestCommand(program, logger);
  registerDatasetPartCommands(program, logger);

  program
    .command('demo')
    .description('from nothing to a live dashboard: generate (if missing) and ingest a file, serve the api and dashboard')
    .option('--file <file>', 'the CSV file (generated if missing)', 'data/products.csv')
    .option('--rows <n>', 'rows to generate when the file is missing', count('ROWS'), 100000)
    .option('--consumers <n>', 'products-consumer processes', count('CONSUMERS', 1, 64), 2)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action((opts: { file: string; rows: number; consumers: number; host: string }) =>
      runMain(async () =>
        (await import('../demo')).demo(loadConfig(), logger, { file: opts.file, rows: opts.rows, consumers: opts.consumers, host: opts.host }),
      ),
    );

  program
    .command('status')
    .description("per-partition lag of every consumer group, dead letters, table row counts (the declared datasets' too)")
    .option('--json', 'print JSON')
    .option('--dataset <spec>', 'only this declared dataset (datasets/<name>.yaml): its groups, tables and outbox')
    .action((opts: { json?: boolean; dataset?: string }) =>
      runMain(async () => {
        const [{ formatStatus, status }, { isProducts, loadDatasetSpec }] = await Promise.all([import('../status'), import('../../libs/dataset/spec')]);
        const spec = opts.dataset ? loadDatasetSpec(opts.dataset) : undefined;
        // products' groups and tables are the namespace's own: shown with every dataset's
        const r = await status(loadConfig(), logger, { dataset: spec && !isProducts(spec) ? spec : undefined });
        console.log(opts.json ? JSON.stringify(r, null, 2) : formatStatus(r));
      }),
    );
}

/** Whether a spec file is the built-in products dataset (checked strictly first: a bad spec stops here). */
export async function isProductsSpec(file: string): Promise<boolean> {
  const { isProducts, loadDatasetSpec } = await import('../../libs/dataset/spec');
  return isProducts(loadDatasetSpec(file));
}

/** A declared dataset's parts, each run alone as products' are (`ingest --dataset` forks them). */
function registerDatasetPartCommands(program: Command, logger: Logger): void {
  const datasetOption = () => new Option('--dataset <spec>', 'the dataset spec (datasets/<name>.yaml)').makeOptionMandatory();
  const prepareDataset = (dataset: string) => async (config: DasyConfig, log: Logger) =>
    void (await (await import('../datasets/prepare')).prepareDataset(config, log, dataset));
  program
    .command(datasetConsumer.name)
    .description(datasetConsumer.description)
    .addOption(datasetOption())
    .addOption(metricsPortOption())
    .addOption(metricsHostOption())
    .action((opts: { dataset: string } & MetricsOptions) =>
      runMain(async () =>
        runComponent(
          datasetConsumer,
          { dataset: opts.dataset },
          { config: loadConfig(), logger, prepare: prepareDataset(opts.dataset), metrics: metricsEndpoint(opts) },
        ),
      ),
    );
  const aggregates = program.command(datasetAggregates.name).description(datasetAggregates.description).addOption(datasetOption());
  relayOptions(aggregates, 'group').action((opts: { dataset: string; maxDelay: number; quiet: number } & MetricsOptions) =>
    runMain(async () =>
      runComponent(
        datasetAggregates,
        { dataset: opts.dataset, maxDelayMs: opts.maxDelay, quietMs: opts.quiet },
        { config: loadConfig(), logger, prepare: prepareDataset(opts.dataset), metrics: metricsEndpoint(opts) },
      ),
    ),
  );
}

/** A relay's timing (libs/outbox/relay.ts) and the metrics endpoint, as the products' and the datasets' relays take them. */
function relayOptions(command: Command, key: 'name' | 'group'): Command {
  return command
    .option(
      '--max-delay <ms>',
      `longest a mark waits for more marks of its ${key} before it is sent`,
      count('--max-delay', 1, 3_600_000),
      RELAY_DEFAULTS.maxDelayMs,
    )
    .option('--quiet <ms>', 'send once no new mark arrived for this long', count('--quiet', 1, 3_600_000), RELAY_DEFAULTS.quietMs)
    .addOption(metricsPortOption())
    .addOption(metricsHostOption());
}

/** What the development entry point adds to `ingest` (dev/commands.ts: `--phases-file`, for the bench). */
export interface IngestExtra {
  option: Option;
  /** from the command's options, who is told the phases' times */
  onPhases(opts: Record<string, unknown>): ((phases: PhaseTimings) => void) | undefined;
}

/** What the development entry point adds to `product-count-producer` (dev/commands.ts: `--kill-after-send`, a fault). */
export interface RelayExtra {
  option: Option;
  /** from the command's options, the relay's hook after a drain's sends were acknowledged */
  afterSend(opts: Record<string, unknown>): ((sent: number) => Promise<void>) | undefined;
}

/** `product-count-producer`: the shipped command, and the development entry point's with its extra option. */
export function registerRelayCommand(program: Command, logger: Logger, extra?: RelayExtra): void {
  const command = program.command('product-count-producer').description(productCountRelay.description);
  relayOptions(command, 'name');
  if (extra) command.addOption(extra.option);
  command.action((opts: { maxDelay: number; quiet: number } & MetricsOptions) =>
    runMain(async () =>
      runComponent(
        productCountRelay,
        { maxDelayMs: opts.maxDelay, quietMs: opts.quiet, afterSend: extra?.afterSend(opts) },
        { config: loadConfig(), logger, prepare, metrics: metricsEndpoint(opts) },
      ),
    ),
  );
}

/** `ingest`: the shipped command, and the development entry point's with its extra option. */
export function registerIngestCommand(program: Command, logger: Logger, extra?: IngestExtra): void {
  const command = program
    .command('ingest')
    .description('the whole pipeline, start to finish; prints a JSON summary as the last line')
    .option('--file <file>', 'the CSV file', 'data/products.csv')
    .option('--rejects <file>', 'where rejected records go; default data/rejects/<name>.rejects.csv')
    .option('--consumers <n>', 'products-consumer processes', count('CONSUMERS', 1, 64), 2)
    .option('--sync', 'the file is the whole catalogue: then delete (through tombstones) every sku of products that it does not contain')
    .option('--dataset <spec>', 'a declared dataset (datasets/<name>.yaml): its tables and topics are made when missing; products unless said');
  if (extra) command.addOption(extra.option);
  command.action((opts: { file: string; rejects?: string; consumers: number; sync?: boolean; dataset?: string }) =>
    runMain(async () => {
      const config = loadConfig();
      if (opts.dataset && !(await isProductsSpec(opts.dataset))) {
        const { ingestDataset } = await import('../datasets/ingest');
        const d = await ingestDataset({
          config,
          logger,
          specFile: opts.dataset,
          file: opts.file,
          rejectsFile: opts.rejects,
          consumers: opts.consumers,
          sync: opts.sync === true,
        });
        console.log(JSON.stringify(d));
        return;
      }
      const { ingest } = await import('../ingest');
      const s = await ingest({
        config,
        logger,
        file: opts.file,
        rejectsFile: opts.rejects,
        consumers: opts.consumers,
        sync: opts.sync === true,
        onPhases: extra?.onPhases(opts),
      });
      console.log(JSON.stringify(s));
    }),
  );
}
