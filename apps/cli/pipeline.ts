import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../libs/config';
import { Logger } from '../../libs/log';
import { runMain, untilSignal } from '../../libs/runtime';
import { checkProductsHeader } from '../../libs/csv/reader';
import { generateProducts } from '../data/generate';
import { demo } from '../demo';
import { ingest } from '../ingest';
import { exitWhenStopped, productCountConsumer, productCountRelay, productsConsumer, runConsumerUntilSignal, superviseProcesses } from '../ingest/run';
import { RELAY_DEFAULTS } from '../product-count-producer';
import { produceProducts } from '../products-producer';
import { prepare } from '../stack';
import { formatStatus, status } from '../status';

function count(name: string, max = 1_000_000_000) {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return Number(value);
  };
}

/**
 * Topics and migrations, unless the `ingest` that forked this process did it already for this
 * namespace (it says so in DASY_PREPARED): its children then start in a fraction of the time.
 */
async function prepareUnlessDone(config: ReturnType<typeof loadConfig>, logger: Logger) {
  if (process.env.DASY_PREPARED && process.env.DASY_PREPARED === `${config.namespace} ${config.databaseUrl}`) {
    // forked while `ingest` was still preparing: it answers once it is done
    if (process.env.DASY_PREPARED_WAIT === '1' && process.send && (await parentPrepared(60000))) return;
    if (process.env.DASY_PREPARED_WAIT !== '1') return;
  }
  await prepare(config, logger);
}

/** Ask the parent whether it prepared; false when it does not say within timeoutMs. */
function parentPrepared(timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(ok);
    };
    const onMessage = (m: { type?: string }) => m?.type === 'prepared' && done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    process.on('message', onMessage);
    process.send!({ type: 'prepared?' });
  });
}

/**
 * Fault injection for the fault-tolerance tests and `make chaos` (never set it otherwise):
 * DASY_FAULT_KILL_AFTER_SEND=1 makes the relay SIGKILL its own process after the broker
 * acknowledged a drain's names and before the drain's deletion of their marks commits.
 */
function faultKillAfterSend(): ((names: string[]) => Promise<void>) | undefined {
  if (process.env.DASY_FAULT_KILL_AFTER_SEND !== '1') return undefined;
  return async (names) => {
    process.stderr.write(`dasy: DASY_FAULT_KILL_AFTER_SEND: ${names.length} name(s) sent; killing this process before the drain commits\n`);
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => undefined); // the signal arrives before anything else runs
  };
}

/** The products pipeline's commands (data, producers, consumers, ingest, status). */
export function registerPipelineCommands(program: Command, logger: Logger): void {
  program
    .command('data')
    .description('write a products CSV shaped like the real dataset (deterministic per seed)')
    .option('--rows <n>', 'records', count('ROWS'), 500000)
    .option('--seed <n>', 'random seed', count('SEED', 2 ** 31), 1)
    .option('--out <file>', 'where to write', 'data/products.csv')
    .action((opts) =>
      runMain(async () => {
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
    .action((opts) =>
      runMain(async () => {
        const config = loadConfig();
        await checkProductsHeader(opts.file);
        await prepare(config, logger);
        const s = await produceProducts({ config, logger, file: opts.file, rejectsFile: opts.rejects });
        console.log(`products-producer: ${s.records} records, ${s.accepted} sent, ${s.rejected} rejected (${s.rejectsFile}) in ${s.seconds.toFixed(1)} s`);
      }),
    );

  program
    .command('products-consumer')
    .description('apply <ns>.products to PostgreSQL: N processes of one consumer group, until stopped')
    .option('--consumers <n>', 'processes', count('CONSUMERS', 64), 2)
    .action((opts) =>
      runMain(async () => {
        const config = loadConfig();
        await prepareUnlessDone(config, logger);
        if (opts.consumers > 1) return superviseProcesses(opts.consumers, ['products-consumer', '--consumers', '1'], logger);
        await runConsumerUntilSignal(productsConsumer(config, logger));
      }),
    );

  program
    .command('product-count-producer')
    .description('relay the outbox of names to recount into <ns>.product-count, until stopped')
    .option('--max-delay <ms>', 'longest a mark waits for more marks of its name before it is sent', count('--max-delay', 3_600_000), RELAY_DEFAULTS.maxDelayMs)
    .option('--quiet <ms>', 'send once no new mark arrived for this long', count('--quiet', 3_600_000), RELAY_DEFAULTS.quietMs)
    .action((opts: { maxDelay: number; quiet: number }) =>
      runMain(async () => {
        const config = loadConfig();
        await prepareUnlessDone(config, logger);
        const relay = productCountRelay(config, logger, { maxDelayMs: opts.maxDelay, quietMs: opts.quiet, afterSend: faultKillAfterSend() });
        // `ingest` says when the products are applied: nothing more to wait for
        process.on('message', (m: { type?: string }) => m?.type === 'drain' && relay.relay.drainNow());
        process.channel?.unref(); // listening must not keep the process alive once stopped
        const stopped = untilSignal([relay]);
        await relay.start();
        await stopped;
        exitWhenStopped();
      }),
    );

  program
    .command('product-count-consumer')
    .description('keep product_count exact from <ns>.product-count, until stopped')
    .action(() =>
      runMain(async () => {
        const config = loadConfig();
        await prepareUnlessDone(config, logger);
        await runConsumerUntilSignal(productCountConsumer(config, logger));
      }),
    );

  program
    .command('ingest')
    .description('the whole pipeline, start to finish; prints a JSON summary as the last line')
    .option('--file <file>', 'the CSV file', 'data/products.csv')
    .option('--rejects <file>', 'where rejected records go; default data/rejects/<name>.rejects.csv')
    .option('--consumers <n>', 'products-consumer processes', count('CONSUMERS', 64), 2)
    .action((opts) =>
      runMain(async () => {
        const config = loadConfig();
        const s = await ingest({ config, logger, file: opts.file, rejectsFile: opts.rejects, consumers: opts.consumers });
        console.log(JSON.stringify(s));
      }),
    );

  program
    .command('demo')
    .description('from nothing to a live dashboard: generate (if missing) and ingest a file, serve the api and dashboard')
    .option('--file <file>', 'the CSV file (generated if missing)', 'data/products.csv')
    .option('--rows <n>', 'rows to generate when the file is missing', count('ROWS'), 100000)
    .option('--consumers <n>', 'products-consumer processes', count('CONSUMERS', 64), 2)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action((opts) => runMain(async () => demo(loadConfig(), logger, { file: opts.file, rows: opts.rows, consumers: opts.consumers, host: opts.host })));

  program
    .command('status')
    .description('per-partition lag of every consumer group, dead letters, table row counts')
    .option('--json', 'print JSON')
    .action((opts) =>
      runMain(async () => {
        const r = await status(loadConfig(), logger);
        console.log(opts.json ? JSON.stringify(r, null, 2) : formatStatus(r));
      }),
    );
}
