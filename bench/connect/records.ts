import { Admin, Kafka } from '../../libs/kafka/port';
import { readProductsFile } from '../../libs/csv/reader';
import { createProducer } from '../../libs/kafka/producer';
import { MAX_MESSAGE_BYTES } from '../../libs/kafka/topics';
import { PARTITIONS } from './worker';

/** one sku in this many is kept with its last record, to check that the last one won */
const SAMPLE_EVERY = 16;

/** What the file holds, to check the table against. */
export interface Expected {
  records: number;
  distinct: number;
  /** sampled skus: the last record of each in file order, and how often the sku occurs */
  sample: Map<string, { name: string; description: string; times: number }>;
}

// JsonConverter with schemas enabled: every record carries its schema beside its payload
const KEY_HEAD = `{"schema":${JSON.stringify({ type: 'struct', optional: false, fields: [{ field: 'sku', type: 'string', optional: false }] })},"payload":`;
const VALUE_HEAD = `{"schema":${JSON.stringify({
  type: 'struct',
  optional: false,
  fields: [
    { field: 'sku', type: 'string', optional: false },
    { field: 'name', type: 'string', optional: false },
    { field: 'description', type: 'string', optional: true },
  ],
})},"payload":`;

/** A topic of dasy's products partition count, the file's records produced into it, what the table must then hold. */
export async function produceConnectRecords(kafka: Kafka, admin: Admin, topic: string, file: string): Promise<Expected> {
  const replicationFactor = Math.min(3, (await admin.describeCluster()).brokers.length);
  await admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor, configEntries: [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }] }],
    waitForLeaders: true,
  });
  const producer = createProducer(kafka);
  await producer.connect();
  const skus = new Set<string>();
  const sample: Expected['sample'] = new Map();
  let pending: { key: string; value: string }[] = [];
  const send = async () => {
    const messages = pending;
    pending = [];
    if (messages.length) await producer.send({ topic, messages });
  };
  try {
    const { records } = await readProductsFile(
      file,
      {
        product: ({ sku, name, description }) => {
          skus.add(sku);
          if (sampled(sku)) sample.set(sku, { name, description, times: (sample.get(sku)?.times ?? 0) + 1 });
          pending.push({ key: `${KEY_HEAD}${JSON.stringify({ sku })}}`, value: `${VALUE_HEAD}${JSON.stringify({ sku, name, description })}}` });
        },
        reject: () => undefined,
      },
      send, // a chunk's records at a time (1 MiB of CSV): the producer's pace holds the reading back
    );
    await send();
    return { records, distinct: skus.size, sample };
  } finally {
    await producer.disconnect();
  }
}

/** One sku in SAMPLE_EVERY, by a hash of the sku (the same skus whatever the file order). */
function sampled(sku: string): boolean {
  let h = 0;
  for (let i = 0; i < sku.length; i++) h = (Math.imul(h, 31) + sku.charCodeAt(i)) | 0;
  return (h >>> 0) % SAMPLE_EVERY === 0;
}
