import { DasyConfig } from '../../libs/config';
import { readSkusFile } from '../../libs/csv/reader';
import { SkuRecord } from '../../libs/csv/skus';
import { Logger } from '../../libs/log';
import { ProduceSummary, streamFile } from './stream';

/**
 * Stream a file of skus into `<ns>.products` as tombstones (key = sku, null value): one per
 * accepted record, in file order, each deleting its sku once applied. Rejected records are
 * reported as an ingest reports them (rejects file and `<ns>.products.rejects`).
 */
export async function produceTombstones(options: { config: DasyConfig; logger: Logger; file: string; rejectsFile?: string }): Promise<ProduceSummary> {
  return streamFile<SkuRecord>(options, {
    label: ' (tombstones)',
    read: (file, sink, onChunk) => readSkusFile(file, { sku: sink.accept, reject: sink.reject }, onChunk),
    message: (s) => [s.sku, null],
  });
}
