import * as path from 'path';
import { DasyConfig } from '../../libs/config';
import { Reject } from '../../libs/csv/products';
import { ReadProgress } from '../../libs/csv/reader';
import { Logger } from '../../libs/log';
import { createProgress, mib, rate } from '../../libs/progress';
import { recordFileCounts } from './files';
import { openProductsWriter } from './writer';

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

/** How a kind of file becomes messages: its reader, and the message of an accepted record. */
export interface FileKind<R> {
  /** for the progress line */
  label: string;
  read(file: string, sink: { accept: (r: R) => void; reject: (r: Reject) => void }, onChunk: (p: ReadProgress) => Promise<void>): Promise<{ records: number }>;
  /** key and value (null: a tombstone) */
  message(r: R): [string, Buffer | null];
}

/**
 * Stream a file into `<ns>.products` through the shared writer (writer.ts: per-key order, no loss
 * or duplicate across broker restarts), rejected records reported to the rejects file and topic,
 * the file's counts recorded for the metrics. Memory stays flat: one chunk and one batch.
 */
export async function streamFile<R>(
  options: {
    config: DasyConfig;
    logger: Logger;
    file: string;
    rejectsFile?: string;
    onConnected?: () => void;
    /** a declared dataset's producer: its name and topics (products' unless said) */
    producer?: { name: string; topics: { changelog: string; rejects: string } };
    /** told how far the file is read, after each chunk: a pipeline run's progress line (apps/pipeline/run-progress.ts) draws it then, not this */
    onRead?: (r: { bytes: number; totalBytes: number; records: number }) => void;
  },
  kind: FileKind<R>,
): Promise<ProduceSummary> {
  const { config, logger, file } = options;
  const rejectsFile = options.rejectsFile ?? defaultRejectsFile(file);
  const name = options.producer?.name ?? 'products-producer';
  const log = logger.namespace(name);
  const fileLabel = path.basename(file);
  const writer = await openProductsWriter({
    config,
    logger: log,
    clientId: `dasy-${name}`,
    rejects: { file: rejectsFile, label: fileLabel },
    topics: options.producer?.topics,
  });
  options.onConnected?.();
  const started = Date.now();
  const counts = { accepted: 0, rejected: 0 };
  const progress = createProgress(options.onRead ? false : undefined);
  const sink = {
    accept: (r: R) => {
      counts.accepted++;
      writer.put(...kind.message(r));
    },
    reject: (r: Reject) => {
      counts.rejected++;
      writer.reject(r);
    },
  };
  let records: number;
  try {
    const result = await kind.read(file, sink, async ({ bytes, totalBytes }) => {
      await writer.flushIfFull();
      const seen = counts.accepted + counts.rejected;
      options.onRead?.({ bytes, totalBytes, records: seen });
      progress.update(
        `${name}${kind.label} ${mib(bytes)}/${mib(totalBytes)} · ${seen.toLocaleString('en-US')} records · ${rate(seen, Date.now() - started)} rows/s · ${counts.rejected} rejected`,
      );
    });
    records = result.records;
    await writer.finish();
  } finally {
    progress.done();
    await writer.close();
  }
  const seconds = (Date.now() - started) / 1000;
  await recordFileCounts(config, log, fileLabel, { records, rejected: counts.rejected });
  return { file, records, ...counts, rejectsFile, seconds };
}
