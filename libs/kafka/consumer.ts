import { Batch as ClientBatch, Consumer as ClientConsumer, ConsumerConfig as ClientConsumerConfig, KafkaMessage as ClientMessage } from 'kafkajs';
import { fromClientError, mapped } from './errors';
import { Batch, Consumer, ConsumerConfig, ConsumerEventMap, KafkaMessage, MessageHeaders } from './port';

/** The port's consumer (port.ts) over a kafkajs consumer: dasy's messages, batches, events and errors. */
export function consumerPort(consumer: ClientConsumer): Consumer {
  return {
    connect: () => mapped(() => consumer.connect()),
    disconnect: () => mapped(() => consumer.disconnect()),
    subscribe: ({ topic, fromBeginning }) => mapped(() => consumer.subscribe({ topic, fromBeginning })),
    run: (config) =>
      mapped(() =>
        consumer.run({
          autoCommit: config.autoCommit,
          eachBatchAutoResolve: config.eachBatchAutoResolve,
          partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
          eachBatch:
            config.eachBatch &&
            ((p) =>
              config.eachBatch!({
                batch: batchOf(p.batch),
                resolveOffset: (offset) => p.resolveOffset(offset.toString()),
                heartbeat: () => mapped(() => p.heartbeat()),
                isRunning: () => p.isRunning(),
                isStale: () => p.isStale(),
              })),
          eachMessage:
            config.eachMessage &&
            ((p) =>
              config.eachMessage!({ topic: p.topic, partition: p.partition, message: messageOf(p.message), heartbeat: () => mapped(() => p.heartbeat()) })),
        }),
      ),
    seek: (topic, partition, offset) => {
      try {
        consumer.seek({ topic, partition, offset: offset.toString() });
      } catch (err) {
        throw fromClientError(err);
      }
    },
    commitOffsets: (offsets) =>
      mapped(() => consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() })))),
    on<E extends keyof ConsumerEventMap>(event: E, listener: (...args: ConsumerEventMap[E]) => void) {
      const emit = listener as (...args: unknown[]) => void;
      if (event === 'group:join') consumer.on(consumer.events.GROUP_JOIN, (e) => emit(e.payload.memberAssignment));
      else if (event === 'crash') consumer.on(consumer.events.CRASH, (e) => emit(fromClientError(e.payload.error), e.payload.restart));
      else if (event === 'fetch:empty')
        // kafkajs's report of a fetch it moved over without eachBatch (END_BATCH_PROCESS of batchSize 0)
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          if (payload.batchSize !== 0) return;
          const firstOffset = payload.firstOffset === null ? null : BigInt(payload.firstOffset);
          emit({ topic: payload.topic, partition: payload.partition, firstOffset, lastOffset: BigInt(payload.lastOffset) });
        });
    },
  };
}

/** kafkajs's consumer settings for the port's. */
export function clientConsumerConfig(config: ConsumerConfig): ClientConsumerConfig {
  const { restartOnFailure, retry, ...rest } = config;
  return { ...rest, retry: restartOnFailure === false ? { ...retry, restartOnFailure: () => Promise.resolve(false) } : retry };
}

/** The same Buffers (the products consumer reads them as views), the offset as a bigint. */
export function messageOf(m: ClientMessage): KafkaMessage {
  return new ClientMessageView(m);
}

/**
 * A message of the port over kafkajs's, made per message of every batch: its offset (kafkajs's
 * decimal string) becomes a bigint only when read, as most decoders never read it (parsing each
 * one would cost about four times the rest of this object, measured).
 */
class ClientMessageView implements KafkaMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: MessageHeaders;
  readonly timestamp: string;
  private readonly decimalOffset: string;
  constructor(m: ClientMessage) {
    this.key = m.key ?? null;
    this.value = m.value;
    this.headers = m.headers ?? {};
    this.timestamp = m.timestamp;
    this.decimalOffset = m.offset;
  }
  get offset(): bigint {
    return BigInt(this.decimalOffset);
  }
}

function batchOf(b: ClientBatch): Batch {
  return {
    topic: b.topic,
    partition: b.partition,
    messages: b.messages.map(messageOf),
    lastOffset: BigInt(b.lastOffset()),
    highWatermark: BigInt(b.highWatermark),
  };
}
