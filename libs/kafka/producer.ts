import { Kafka, Producer } from './port';

/**
 * The producer of every part that writes to a dasy topic: idempotent, one request in flight (the
 * order of a partition's records survives retries), no topic auto-creation (topics are declared
 * in topics.ts), murmur2 partitioning as the Java client does (same key, same partition), and
 * retries without limit: an idempotent producer that gives up can lose its sequence, so it waits
 * for the broker (said once by the client) and whoever calls it decides on its own deadline.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
  });
}

/** How many partitions a topic has (undefined when its metadata does not say). */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length || undefined;
  } finally {
    await admin.disconnect();
  }
}
