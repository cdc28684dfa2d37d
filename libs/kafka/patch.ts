import Module from 'module';
import { installProduceEncoder } from './produce-encoder';
import { createSendMessages, SendMessagesDeps } from './send-messages';

/**
 * kafkajs 2.2.4 groups a send's messages per partition with `[...current, message]` for every
 * message: quadratic in the messages per partition, a second of CPU per 500,000 records. This
 * installs a linear version with the same result before kafkajs loads (it captures the function
 * at require time). Imported first by every entry point. It also replaces the producer's send
 * (its retry loses messages when a broker dies; see send-messages.ts).
 */
type Grouping = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: { partition?: number | null }[];
  partitioner: (a: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
}) => Record<number, unknown[]>;

const linearGroupMessagesPerPartition: Grouping = ({ topic, partitionMetadata, messages, partitioner }) => {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
};

const target = require.resolve('kafkajs/src/producer/groupMessagesPerPartition');
if (!require.cache[target]) {
  const m = new Module(target);
  m.filename = target;
  m.loaded = true;
  m.exports = linearGroupMessagesPerPartition;
  require.cache[target] = m;
}

// The producer's send, with a retry that cannot skip a partition whose leader moved (see
// send-messages.ts: kafkajs's own loses messages when a broker dies mid-send).
const sendTarget = require.resolve('kafkajs/src/producer/sendMessages');
if (!require.cache[sendTarget]) {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { KafkaJSMetadataNotLoaded } = require('kafkajs/src/errors');
  const { staleMetadata } = require('kafkajs/src/protocol/error');
  const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition');
  const responseSerializer = require('kafkajs/src/producer/responseSerializer');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const m = new Module(sendTarget);
  m.filename = sendTarget;
  m.loaded = true;
  m.exports = (deps: Pick<SendMessagesDeps, 'logger' | 'cluster' | 'partitioner' | 'eosManager' | 'retrier'>) =>
    createSendMessages({
      ...deps,
      groupMessagesPerPartition,
      responseSerializer,
      staleMetadata,
      metadataNotLoaded: (message) => new KafkaJSMetadataNotLoaded(message),
    });
  require.cache[sendTarget] = m;
}

// The Produce request's encoder, the same bytes at a fraction of the CPU (see produce-encoder.ts).
installProduceEncoder();
