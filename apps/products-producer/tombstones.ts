import * as path from 'path';
import { DasyConfig } from '../../libs/config';
import { Reject } from '../../libs/csv/products';
import { readSkusFile } from '../../libs/csv/reader';
import { SkuRecord } from '../../libs/csv/skus';
import { Logger } from '../../libs/log';
import { createProgress, mib, rate } from '../../libs/progress';
import { defaultRejectsFile, ProduceSummary } from '.';
import { recordFileCounts } from './files';
import { openProductsWriter } from './writer';

/**
 * Stream a file of skus into `<ns>.products` as tombstones (key = sku, null value): one per
 * accepted record, in file order, each deleting its sku once applied. Rejected records are
 * reported as an ingest reports them (rejects file and `<ns>.products.rejects`).
 */
export async function produceTombstones(options: { config: DasyConfig; logger: Logger; file: string; rejectsFile?: string }): Promise<ProduceSummary> {
  const { config, logger, file } = options;
  const rejectsFile = options.rejectsFile ?? defaultRejectsFile(file);
  const log = logger.namespace('products-producer');
  const fileLabel = path.basename(file);
  const writer = await openProductsWriter({ config, logger: log, clientId: 'dasy-products-producer', rejects: { file: rejectsFile, label: fileLabel } });
  const started = Date.now();
  let accepted = 0;
  let rejected = 0;
  const progress = createProgress();
  const sink = {
    sku(s: SkuRecord) {
      accepted++;
      writer.put(s.sku, null);
    },
    reject(r: Reject) {
      rejected++;
      writer.reject(r);
    },
  };
  let records: number;
  try {
    const result = await readSkusFile(file, sink, async ({ bytes, totalBytes }) => {
      await writer.flushIfFull();
      progress.update(
        `products-producer (tombstones) ${mib(bytes)}/${mib(totalBytes)} · ${(accepted + rejected).toLocaleString('en-US')} records · ${rate(accepted + rejected, Date.now() - started)} rows/s · ${rejected} rejected`,
      );
    });
    records = result.records;
    await writer.finish();
  } finally {
    progress.done();
    await writer.close();
  }
  const seconds = (Date.now() - started) / 1000;
  await recordFileCounts(config, log, fileLabel, { records, rejected });
  return { file, records, accepted, rejected, rejectsFile, seconds };
}
