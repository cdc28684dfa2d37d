import { Kafka, Message, Producer, TopicMessages } from '../../libs/kafka/port';
import { partitionFor } from '../../libs/kafka/murmur2';
import { createProducer } from '../../libs/kafka/producer';
import { UnavailableError } from '../../libs/errors';
import { MicroBatcher, Settled } from './batcher';

/** Where a message landed: the reply to a push waits for this offset to be applied. */
export interface Placement {
  topic: string;
  partition: number;
  offset: bigint;
}

interface Outgoing {
  topic: string;
  partition: number;
  key: string;
  value: Buffer;
}

/**
 * The api's one Kafka producer: idempotent, acks=all. An idempotent kafkajs producer has one
 * request in flight per broker, so sending each request's message alone would cap the api at a
 * few hundred messages per second; instead concurrent requests are coalesced into one send. Each
 * message gets its partition here (the default, Java-compatible murmur2 partitioner on the key), so
 * its offset is known from the send's reply: the base offset of its partition in that send plus
 * its index among that partition's messages.
 */
export class EventProducer {
  private producer: Producer;
  private partitionCounts = new Map<string, number>();
  private readonly batcher: MicroBatcher<Outgoing, Placement>;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: string[],
    options: { maxBatch?: number; maxQueued?: number } = {},
  ) {
    // it retries until it succeeds (libs/kafka/producer.ts); a request answers 503 when its own deadline passes first
    this.producer = createProducer(kafka);
    // A send holds one record batch per partition; the broker refuses one over message.max.bytes
    // (1 MB by default), so a send carries at most 512 KiB of keys and values.
    this.batcher = new MicroBatcher((items) => this.produce(items), {
      maxBatch: options.maxBatch ?? 1000,
      maxConcurrent: 1,
      weigh: (item) => Buffer.byteLength(item.key) + item.value.length + 64,
      maxWeight: 512 * 1024,
      maxQueued: options.maxQueued,
    });
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: this.topics });
      for (const t of topics) this.partitionCounts.set(t.name, t.partitions.length);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    for (const t of this.topics) if (!this.partitionCounts.get(t)) throw new UnavailableError(`topic ${t} has no partitions`);
    await this.producer.connect();
  }

  /** kafkajs's default (Java-compatible) murmur2 partition, without its 64-bit emulation */
  partitionFor(topic: string, key: string): number {
    const n = this.partitionCounts.get(topic);
    if (!n) throw new Error(`unknown topic ${topic}`);
    return partitionFor(key, n);
  }

  /**
   * Send a group of messages of one topic with one deadline (one push, or a batch of them):
   * `settle(i, outcome)` is called once per message, with where it landed once the broker
   * acknowledged it (acks=all), or why not. A message is never sent after `deadline` (ms since the
   * epoch) nor once withdrawn; one beyond a full queue is refused at once (QueueFullError).
   */
  sendAll(
    topic: string,
    events: readonly { key: string; value: Buffer }[],
    deadline: number,
    settle: (index: number, outcome: Settled<Placement>) => void,
  ): { withdraw(): number[] } {
    const items = events.map(({ key, value }) => ({ topic, partition: this.partitionFor(topic, key), key, value }));
    return this.batcher.enqueueAll(items, deadline, settle);
  }

  /**
   * Nothing queued is sent any more; a send in flight gets `graceMs` to be acknowledged (during a
   * Kafka outage it would retry for ever: its requests were answered 503 at their deadlines), then
   * the producer disconnects.
   */
  async stop(graceMs: number): Promise<void> {
    this.batcher.clear('the api is stopping');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.batcher.drained(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    await this.producer.disconnect().catch(() => undefined);
  }

  /** One run of the batcher: one sendBatch to Kafka; each message's placement. */
  private async produce(items: Outgoing[]): Promise<Placement[]> {
    const byTopic = new Map<string, Message[]>();
    const index = new Map<string, number>();
    const position: number[] = [];
    for (const item of items) {
      let messages = byTopic.get(item.topic);
      if (!messages) byTopic.set(item.topic, (messages = []));
      messages.push({ key: item.key, value: item.value, partition: item.partition });
      const tp = `${item.topic}\u0000${item.partition}`;
      const i = index.get(tp) ?? 0;
      index.set(tp, i + 1);
      position.push(i);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    let metadata;
    try {
      metadata = await this.producer.sendBatch({ topicMessages, acks: -1 });
    } catch (err) {
      throw new UnavailableError(`Kafka did not acknowledge: ${(err as Error).message}`, err);
    }
    const base = new Map<string, bigint>();
    for (const m of metadata) {
      const offset = m.baseOffset ?? m.offset;
      if (offset !== undefined) base.set(`${m.topicName}\u0000${m.partition}`, BigInt(offset));
    }
    return items.map((item, i) => {
      const b = base.get(`${item.topic}\u0000${item.partition}`);
      if (b === undefined) throw new UnavailableError(`Kafka acknowledged no offset for ${item.topic}[${item.partition}]`);
      return { topic: item.topic, partition: item.partition, offset: b + BigInt(position[i]) };
    });
  }
}
