import { Command } from 'commander';
import { intOption as count, loadConfig } from '../../libs/config';
import { Logger } from '../../libs/log';
import { runMain } from '../../libs/runtime';
import { isProductsSpec } from './pipeline';

/** The commands of `<ns>.products` as a changelog: deletes by file, and the rebuild from the topic. */
export function registerChangelogCommands(program: Command, logger: Logger): void {
  program
    .command('delete')
    .description('delete the skus of a CSV (a sku column) through the pipeline: one tombstone each; prints a JSON summary as the last line')
    .requiredOption('--file <file>', 'the CSV file of skus')
    .option('--rejects <file>', 'where rejected records go; default data/rejects/<name>.rejects.csv')
    .option('--consumers <n>', 'products-consumer processes', count('CONSUMERS', 1, 64), 2)
    .option('--dataset <spec>', "a declared dataset (datasets/<name>.yaml): the file's header names its key columns; products unless said")
    .action((opts: { file: string; rejects?: string; consumers: number; dataset?: string }) =>
      runMain(async () => {
        if (opts.dataset && !(await isProductsSpec(opts.dataset))) {
          const { deleteDatasetKeys } = await import('../datasets/delete');
          const d = await deleteDatasetKeys({
            config: loadConfig(),
            logger,
            specFile: opts.dataset,
            file: opts.file,
            rejectsFile: opts.rejects,
            consumers: opts.consumers,
          });
          console.log(JSON.stringify(d));
          return;
        }
        const { deleteSkus } = await import('../delete');
        const s = await deleteSkus({ config: loadConfig(), logger, file: opts.file, rejectsFile: opts.rejects, consumers: opts.consumers });
        console.log(JSON.stringify(s));
      }),
    );

  program
    .command('rebuild')
    .description('empty products and product_count and replay <ns>.products from the beginning: the same tables again; prints a JSON summary')
    .option('--consumers <n>', 'products-consumer processes', count('CONSUMERS', 1, 64), 2)
    .option('--dataset <spec>', 'a declared dataset (datasets/<name>.yaml): its table and aggregates from its topic; products unless said')
    .action((opts: { consumers: number; dataset?: string }) =>
      runMain(async () => {
        if (opts.dataset && !(await isProductsSpec(opts.dataset))) {
          const { rebuildDataset } = await import('../datasets/rebuild');
          console.log(JSON.stringify(await rebuildDataset({ config: loadConfig(), logger, specFile: opts.dataset, consumers: opts.consumers })));
          return;
        }
        const { rebuild } = await import('../rebuild');
        const s = await rebuild({ config: loadConfig(), logger, consumers: opts.consumers });
        console.log(JSON.stringify(s));
      }),
    );
}
