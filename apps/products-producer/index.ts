import { DasyConfig } from '../../libs/config';
import { Product } from '../../libs/csv/products';
import { readProductsFile } from '../../libs/csv/reader';
import { Logger } from '../../libs/log';
import { ProduceSummary, streamFile } from './stream';
import { encodeProductValue } from '../../libs/kafka/product-value';

/**
 * A `<ns>.products` record as a JSON object, the form a person or another tool may write (the
 * consumer reads it; dasy's producer writes the compact value of libs/kafka/product-value.ts).
 */
export interface ProductMessage {
  sku: string;
  name: string;
  description: string;
  /** where it came from, when written by a file's producer (informational) */
  line?: number;
  record?: number;
}

export type { ProduceSummary } from './stream';
export { defaultRejectsFile } from './stream';

/**
 * Stream a products file into `<ns>.products`, keyed by sku, each record as its compact value
 * (libs/kafka/product-value.ts). Parsing the next chunk overlaps the send in flight (stream.ts).
 */
export async function produceProducts(options: {
  config: DasyConfig;
  logger: Logger;
  file: string;
  rejectsFile?: string;
  /** called once the producer is connected (ingest starts its clock there) */
  onConnected?: () => void;
  /** how far the file is read (a pipeline run's progress line) */
  onRead?: (r: { bytes: number; totalBytes: number; records: number }) => void;
}): Promise<ProduceSummary> {
  return streamFile<Product>(options, {
    label: '',
    read: (file, sink, onChunk) => readProductsFile(file, { product: sink.accept, reject: sink.reject }, onChunk),
    message: (p) => [p.sku, encodeProductValue(p.name, p.description)],
  });
}
