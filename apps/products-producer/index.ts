import * as fs from 'fs';
import * as path from 'path';
import { Message } from 'kafkajs';
import { DasyConfig } from '../../libs/config';
import { Product, Reject } from '../../libs/csv/products';
import { readProductsFile } from '../../libs/csv/reader';
import { createKafka } from '../../libs/kafka/client';
import { createProducer, partitionCount } from '../../libs/kafka/producer';
import { partitionFor } from '../../libs/kafka/murmur2';
import { topicName, TOPICS } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { createProgress, mib, rate } from '../../libs/progress';
import { recordFileCounts } from './files';

/** The message on `<ns>.products` (key = sku): the record and where it came from. */
export interface ProductMessage {
  sku: string;
  name: string;
  description: string;
  line: number;
  record: number;
}

export interface ProduceSummary {
  file: string;
  records: number;
  accepted: number;
  rejected: number;
  rejectsFile: string;
  seconds: number;
}

/** How much of a rejected record's raw text goes on `<ns>.products.rejects` (all of it goes to the rejects file). */
export const MAX_REJECT_RAW_ON_TOPIC = 64 * 1024;

export function defaultRejectsFile(file: string): string {
  return path.join('data', 'rejects', `${path.basename(file)}.rejects.csv`);
}

/** CSV field quoting for the rejects file. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? '"' + value.replace(/"/g, '""') + '"' : value;
}

/**
 * Stream a products file into `<ns>.products`, keyed by sku. The producer is idempotent with
 * acks=all and one request in flight, and sends are issued one after another: records of one
 * sku reach their partition in file order, and a broker restart neither loses nor duplicates.
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
  const topic = topicName(config.namespace, 'products');
  const rejectsTopic = topicName(config.namespace, 'productsRejects');
  // persistent: a broker restart mid-stream is waited for (said once), not a failed ingest
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-products-producer', logger: log, persistent: true });
  const producer = createProducer(kafka);
  await producer.connect();
  const partitions = (await partitionCount(kafka, topic)) ?? TOPICS.products.partitions;
  options.onConnected?.();
  const started = Date.now();

  fs.mkdirSync(path.dirname(path.resolve(rejectsFile)), { recursive: true });
  const rejectsFd = fs.openSync(rejectsFile, 'w');
  fs.writeSync(rejectsFd, 'line,reason,raw\n');
  const fileLabel = path.basename(file);

  let batch: Message[] = [];
  let rejectBatch: Message[] = [];
  let rejectText = '';
  let accepted = 0;
  let rejected = 0;
  let pendingBytes = 0; // of the messages not sent yet
  let inFlight: Promise<unknown> = Promise.resolve();
  const progress = createProgress();

  const sink = {
    product(p: Product) {
      accepted++;
      const value: ProductMessage = { sku: p.sku, name: p.name, description: p.description, line: p.line, record: p.record };
      // Same partition kafkajs (and Java) would pick, computed cheaply.
      const json = JSON.stringify(value);
      pendingBytes += json.length;
      batch.push({ key: p.sku, value: json, partition: partitionFor(p.sku, partitions) });
    },
    reject(r: Reject) {
      rejected++;
      rejectText += `${r.line},${csvField(r.reason)},${csvField(r.raw)}\n`;
      // The topic gets the start of a huge raw record (the rejects file has all of it): a record
      // batch must fit the broker's message size limit.
      const raw = r.raw.length > MAX_REJECT_RAW_ON_TOPIC ? { raw: r.raw.slice(0, MAX_REJECT_RAW_ON_TOPIC), rawTruncated: true } : { raw: r.raw };
      const value = JSON.stringify({ file: fileLabel, line: r.line, reason: r.reason, ...raw });
      pendingBytes += value.length;
      rejectBatch.push({ key: `${fileLabel}:${r.line}`, value });
    },
  };

  const flush = async () => {
    // One send at a time keeps the per-partition order of the file across sends.
    await inFlight;
    if (rejectText) {
      fs.writeSync(rejectsFd, rejectText);
      rejectText = '';
    }
    const topicMessages = [];
    if (batch.length) topicMessages.push({ topic, messages: batch });
    if (rejectBatch.length) topicMessages.push({ topic: rejectsTopic, messages: rejectBatch });
    batch = [];
    rejectBatch = [];
    pendingBytes = 0;
    if (topicMessages.length) {
      const sent = producer.sendBatch({ topicMessages, acks: -1 });
      sent.catch(() => undefined); // awaited at the next flush; not an unhandled rejection meanwhile
      inFlight = sent;
    }
  };

  let records: number;
  try {
    const result = await readProductsFile(file, sink, async ({ bytes, totalBytes }) => {
      // by count, and by size: large records must not pile up into one request over the broker's limit
      if (batch.length + rejectBatch.length >= 4000 || pendingBytes >= 512 * 1024) await flush();
      const ms = Date.now() - started;
      progress.update(
        `products-producer ${mib(bytes)}/${mib(totalBytes)} · ${(accepted + rejected).toLocaleString('en-US')} records · ${rate(accepted + rejected, ms)} rows/s · ${rejected} rejected`,
      );
    });
    records = result.records;
    await flush();
    await inFlight;
  } finally {
    progress.done();
    fs.closeSync(rejectsFd);
    await producer.disconnect().catch((err) => log.warn('disconnect failed', { err }));
  }
  const seconds = (Date.now() - started) / 1000;
  await recordFileCounts(config, log, fileLabel, { records, rejected });
  return { file, records, accepted, rejected, rejectsFile, seconds };
}
