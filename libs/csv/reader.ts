import * as fs from 'fs';
import { StringDecoder } from 'string_decoder';
import { InputError } from '../errors';
import { ProductsCsv, ProductsSink } from './products';
import { SkusCsv, SkusSink } from './skus';
import type { HeaderedCsv } from './headered';

export interface ReadProgress {
  bytes: number;
  totalBytes: number;
}

function statFile(file: string): fs.Stats {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw new InputError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (stat.isDirectory()) throw new InputError(`cannot read ${file}: it is a directory`);
  return stat;
}

/** What reads a CSV file by some rules (ProductsCsv, SkusCsv): text in, records to its sink. */
export type CsvRules = HeaderedCsv<{ count: number }>;

/**
 * Check that the file exists and its header names the required columns, reading only as far
 * as the header: a file that would be refused is refused before anything starts.
 */
export async function checkProductsHeader(file: string): Promise<void> {
  await checkHeader(file, new ProductsCsv({ product: () => undefined, reject: () => undefined }));
}

/** The same for a file of skus (a header naming sku). */
export async function checkSkusHeader(file: string): Promise<void> {
  await checkHeader(file, new SkusCsv({ sku: () => undefined, reject: () => undefined }));
}

export async function checkHeader(file: string, csv: CsvRules): Promise<void> {
  statFile(file);
  const bytes = new CsvBytes(csv);
  const stream = fs.createReadStream(file, { highWaterMark: 64 * 1024 });
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      bytes.push(buf);
      if (csv.hasHeader) return;
    }
    bytes.end(); // throws for an empty file
  } finally {
    stream.destroy();
  }
}

/**
 * A CSV file's bytes, chunk by chunk, into its rules (ProductsCsv, SkusCsv): UTF-8 decoded across
 * chunk boundaries (a character split between two chunks is one character), the byte order mark dropped.
 */
export class CsvBytes {
  private readonly decoder = new StringDecoder('utf8');
  private first = true;

  constructor(private readonly csv: CsvRules) {}

  push(buf: Buffer): void {
    this.text(this.decoder.write(buf));
  }

  end(): void {
    this.text(this.decoder.end());
    this.csv.end();
  }

  private text(text: string) {
    if (this.first && text.length) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 byte order mark
    }
    if (text) this.csv.push(text);
  }
}

/**
 * Stream a products file through the ingest rules without loading it whole. `onChunk` runs
 * after each chunk's records were delivered; awaiting it applies backpressure (the producer
 * waits for Kafka there), so memory stays flat whatever the file size.
 */
export async function readProductsFile(
  file: string,
  sink: ProductsSink,
  onChunk: (progress: ReadProgress) => Promise<void> | void = () => undefined,
  chunkBytes = 1024 * 1024,
): Promise<{ records: number }> {
  return readCsvFile(file, new ProductsCsv(sink), onChunk, chunkBytes);
}

/** A file of skus, by SkusCsv's rules (`readable`: every sku that can be read, see SkusCsv). */
export async function readSkusFile(
  file: string,
  sink: SkusSink,
  onChunk: (progress: ReadProgress) => Promise<void> | void = () => undefined,
  options: { readable?: boolean } = {},
): Promise<{ records: number }> {
  return readCsvFile(file, new SkusCsv(sink, options), onChunk);
}

export async function readCsvFile(
  file: string,
  csv: CsvRules,
  onChunk: (progress: ReadProgress) => Promise<void> | void,
  chunkBytes = 1024 * 1024,
): Promise<{ records: number }> {
  const stat = statFile(file);
  const bytesIn = new CsvBytes(csv);
  const stream = fs.createReadStream(file, { highWaterMark: chunkBytes });
  let bytes = 0;
  for await (const buf of stream as AsyncIterable<Buffer>) {
    bytes += buf.length;
    bytesIn.push(buf);
    await onChunk({ bytes, totalBytes: stat.size });
  }
  bytesIn.end();
  return { records: csv.recordCount };
}
