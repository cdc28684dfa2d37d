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
  const decoder = new StringDecoder('utf8');
  const stream = fs.createReadStream(file, { highWaterMark: 64 * 1024 });
  let first = true;
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      let text = decoder.write(buf);
      if (first && text.length) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      csv.push(text);
      if (csv.hasHeader) return;
    }
    csv.push(decoder.end());
    csv.end(); // throws for an empty file
  } finally {
    stream.destroy();
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
  const decoder = new StringDecoder('utf8');
  const stream = fs.createReadStream(file, { highWaterMark: chunkBytes });
  let bytes = 0;
  let first = true;
  for await (const buf of stream as AsyncIterable<Buffer>) {
    bytes += buf.length;
    let text = decoder.write(buf);
    if (first && text.length) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 byte order mark
    }
    if (text) csv.push(text);
    await onChunk({ bytes, totalBytes: stat.size });
  }
  const rest = decoder.end();
  if (rest) csv.push(rest);
  csv.end();
  return { records: csv.recordCount };
}
