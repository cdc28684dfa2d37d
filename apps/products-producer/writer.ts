import * as fs from 'fs';
import * as path from 'path';
import { Message } from '../../libs/kafka/port';
import { DasyConfig } from '../../libs/config';
import { Reject } from '../../libs/csv/products';
import { createKafka } from '../../libs/kafka/client';
import { partitionFor } from '../../libs/kafka/murmur2';
import { createProducer, partitionCount } from '../../libs/kafka/producer';
import { topicName, TOPICS } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';

/** How much of a rejected record's raw text goes on `<ns>.products.rejects` (all of it goes to the rejects file). */
export const MAX_REJECT_RAW_ON_TOPIC = 64 * 1024;

/**
 * What every writer of `<ns>.products` shares (records, tombstones): an idempotent producer with
 * acks=all and one request in flight, whose sends are issued one after another, so the messages
 * of a key reach its partition in the order they were put and a broker restart neither loses nor
 * duplicates; each key's partition computed as kafkajs (and Java) would, cheaply; and the reports
 * of rejected records, to the rejects file and to `<ns>.products.rejects`. What is put waits until
 * 4,000 messages or 512 KiB are pending; `flushIfFull` then sends it, once the send before it was
 * acknowledged: awaiting it is the backpressure that keeps memory flat.
 */
export interface ProductsWriter {
  /** a record (its compact value: libs/kafka/product-value.ts) or a tombstone (null) for the key */
  put(key: string, value: Buffer | null): void;
  reject(r: Reject): void;
  flushIfFull(): Promise<void>;
  /** send what is pending and wait until everything is acknowledged */
  finish(): Promise<void>;
  /** disconnect and close the rejects file (after finish, or on an error) */
  close(): Promise<void>;
}

/** CSV field quoting for the rejects file. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? '"' + value.replace(/"/g, '""') + '"' : value;
}

export async function openProductsWriter(options: {
  config: DasyConfig;
  /** the writer's own (products-producer, sync) */
  logger: Logger;
  clientId: string;
  /** where rejected records are reported: the rejects file, and the input's name on the topic */
  rejects?: { file: string; label: string };
  /** a declared dataset's changelog and rejects topics (libs/dataset/topics.ts); products' unless said */
  topics?: { changelog: string; rejects: string };
}): Promise<ProductsWriter> {
  const { config, logger } = options;
  const log = logger;
  const topic = options.topics?.changelog ?? topicName(config.namespace, 'products');
  const rejectsTopic = options.topics?.rejects ?? topicName(config.namespace, 'productsRejects');
  // persistent: a broker restart mid-stream is waited for (said once), not a failed run
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: options.clientId, logger: log, persistent: true });
  const producer = createProducer(kafka);
  await producer.connect();
  const partitions = (await partitionCount(kafka, topic)) ?? TOPICS.products.partitions;

  let rejectsFd: number | undefined;
  if (options.rejects) {
    fs.mkdirSync(path.dirname(path.resolve(options.rejects.file)), { recursive: true });
    rejectsFd = fs.openSync(options.rejects.file, 'w');
    fs.writeSync(rejectsFd, 'line,reason,raw\n');
  }

  let batch: Message[] = [];
  let rejectBatch: Message[] = [];
  let rejectText = '';
  let pendingBytes = 0; // of the messages not sent yet
  let inFlight: Promise<unknown> = Promise.resolve();

  const flush = async () => {
    // One send at a time keeps the per-partition order across sends.
    await inFlight;
    if (rejectText) {
      fs.writeSync(rejectsFd!, rejectText);
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

  return {
    put(key, value) {
      // its UTF-8 bytes once, for the partition and for the request (copied, not encoded again)
      const keyBytes = Buffer.from(key, 'utf8');
      pendingBytes += keyBytes.length + (value?.length ?? 0);
      batch.push({ key: keyBytes, value, partition: partitionFor(keyBytes, partitions) });
    },
    reject(r) {
      if (rejectsFd === undefined) throw new Error('openProductsWriter: rejects reported without a rejects file');
      rejectText += `${r.line},${csvField(r.reason)},${csvField(r.raw)}\n`;
      // The topic gets the start of a huge raw record (the rejects file has all of it): a record
      // batch must fit the broker's message size limit.
      const raw = r.raw.length > MAX_REJECT_RAW_ON_TOPIC ? { raw: r.raw.slice(0, MAX_REJECT_RAW_ON_TOPIC), rawTruncated: true } : { raw: r.raw };
      const value = JSON.stringify({ file: options.rejects!.label, line: r.line, reason: r.reason, ...raw });
      pendingBytes += value.length;
      rejectBatch.push({ key: `${options.rejects!.label}:${r.line}`, value });
    },
    async flushIfFull() {
      // by count, and by size: large records must not pile up into one request over the broker's limit
      if (batch.length + rejectBatch.length >= 4000 || pendingBytes >= 512 * 1024) await flush();
    },
    async finish() {
      await flush();
      await inFlight;
    },
    async close() {
      if (rejectsFd !== undefined) fs.closeSync(rejectsFd);
      rejectsFd = undefined;
      await producer.disconnect().catch((err) => log.warn('disconnect failed', { err }));
    },
  };
}
