import * as fs from 'fs';
import { StringDecoder } from 'string_decoder';
import { InputError } from '../errors';
import { ProductsCsv, ProductsSink } from './products';

export interface ReadProgress {
  bytes: number;
  totalBytes: number;
}

/**
 * Stream a products file through the ingest rules without loading it whole. `onChunk` runs
 * after each chunk's records were delivered; awaiting it applies backpressure (the producer
 * waits for Kafka there), so memory stays flat whatever the file size.
 */
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

/**
 * Check that the file exists and its header names the required columns, reading only as far
 * as the header: a file that would be refused is refused before anything starts.
 */
export async function checkProductsHeader(file: string): Promise<void> {
  statFile(file);
  const csv = new ProductsCsv({ product: () => undefined, reject: () => undefined });
  const bytes = new ProductsBytes(csv);
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
 * A products file's bytes, chunk by chunk, into ProductsCsv: UTF-8 decoded across chunk
 * boundaries (a character split between two chunks is one character), the byte order mark dropped.
 */
export class ProductsBytes {
  private readonly decoder = new StringDecoder('utf8');
  private first = true;

  constructor(private readonly csv: ProductsCsv) {}

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

export async function readProductsFile(
  file: string,
  sink: ProductsSink,
  onChunk: (progress: ReadProgress) => Promise<void> | void = () => undefined,
  chunkBytes = 1024 * 1024,
): Promise<{ records: number }> {
  const stat = statFile(file);
  const csv = new ProductsCsv(sink);
  const bytesIn = new ProductsBytes(csv);
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
