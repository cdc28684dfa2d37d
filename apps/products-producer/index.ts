import * as path from 'path';
import { DasyConfig } from '../../libs/config';
import { Product, Reject } from '../../libs/csv/products';
import { readProductsFile } from '../../libs/csv/reader';
import { Logger } from '../../libs/log';
import { createProgress, mib, rate } from '../../libs/progress';
import { recordFileCounts } from './files';
import { encodeProductValue } from './value';
import { openProductsWriter } from './writer';

/**
 * A `<ns>.products` record as a JSON object, the form a person or another tool may write (the
 * consumer reads it; dasy's producer writes the compact value of value.ts).
 */
export interface ProductMessage {
  sku: string;
  name: string;
  description: string;
  /** where it came from, when written by a file's producer (informational) */
  line?: number;
  record?: number;
}

export interface ProduceSummary {
  file: string;
  records: number;
  accepted: number;
  rejected: number;
  rejectsFile: string;
  seconds: number;
}

export function defaultRejectsFile(file: string): string {
  return path.join('data', 'rejects', `${path.basename(file)}.rejects.csv`);
}

/**
 * Stream a products file into `<ns>.products`, keyed by sku (see ProductsWriter: records of one
 * sku reach their partition in file order; a broker restart neither loses nor duplicates).
 * Parsing the next chunk overlaps the send in flight; memory stays flat (one chunk + one batch).
 */
export async function produceProducts(options: {
  config: DasyConfig;
  logger: Logger;
  file: string;
  rejectsFile?: string;
  /** called once the producer is connected (ingest starts its clock there) */
  onConnected?: () => void;
}): Promise<ProduceSummary> {
  const { config, logger, file } = options;
  const rejectsFile = options.rejectsFile ?? defaultRejectsFile(file);
  const log = logger.namespace('products-producer');
  const fileLabel = path.basename(file);
  const writer = await openProductsWriter({ config, logger: log, clientId: 'dasy-products-producer', rejects: { file: rejectsFile, label: fileLabel } });
  options.onConnected?.();
  const started = Date.now();
  let accepted = 0;
  let rejected = 0;
  const progress = createProgress();
  const sink = {
    product(p: Product) {
      accepted++;
      writer.put(p.sku, encodeProductValue(p.name, p.description));
    },
    reject(r: Reject) {
      rejected++;
      writer.reject(r);
    },
  };
  let records: number;
  try {
    const result = await readProductsFile(file, sink, async ({ bytes, totalBytes }) => {
      await writer.flushIfFull();
      const ms = Date.now() - started;
      progress.update(
        `products-producer ${mib(bytes)}/${mib(totalBytes)} · ${(accepted + rejected).toLocaleString('en-US')} records · ${rate(accepted + rejected, ms)} rows/s · ${rejected} rejected`,
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
