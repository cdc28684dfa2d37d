/**
 * kafkajs 2.2.4's producer send (`kafkajs/src/producer/sendMessages`), with its retry fixed.
 *
 * kafkajs remembers which *brokers* answered a send and, on a retry, resends only to brokers
 * without an answer. When a broker dies mid-send, its partitions move to brokers that already
 * answered for their own partitions, so the retry skips them and the send resolves as if every
 * message were written: those messages are lost (a three-broker cluster with one broker killed
 * mid-ingest lost some 1,900 of 40,000 records, every time). This version remembers which
 * *partitions* were acknowledged and resends every other one to its leader of the moment. A
 * partition the metadata does not know (yet) fails the attempt (retried) instead of being dropped.
 *
 * A retry also waits until every request of the attempt has settled, so that none still in
 * flight is sent again before its answer is recorded.
 *
 * Everything else is kafkajs's: idempotent sequences taken before a request and given back when
 * it fails, the broker lock of the EOS manager, the same retry decisions and the same result.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Broker = { nodeId: number; produce(request: any): Promise<any> };
interface Cluster {
  refreshMetadataIfNecessary(): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number | null }[];
  findLeaderForPartitions(topic: string, partitions: (string | number)[]): Record<string, number[]>;
  findBroker(args: { nodeId: string | number }): Promise<Broker>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  isConnected(): boolean;
  connect(): Promise<void>;
  removeBroker(args: { host: string; port: number }): void;
}
interface EosManager {
  isTransactional(): boolean;
  addPartitionsToTransaction(topicData: any): Promise<void>;
  getSequence(topic: string, partition: number): number;
  updateSequence(topic: string, partition: number, increment: number): void;
  getTransactionalId(): string;
  getProducerId(): number;
  getProducerEpoch(): number;
  acquireBrokerLock(broker: Broker): Promise<void>;
  releaseBrokerLock(broker: Broker): Promise<void>;
}
type Retrier = <T>(fn: (bail: (err: Error) => void, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>;
interface TopicMessages {
  topic: string;
  messages: unknown[];
}
type ResponseEntry = { topicName: string; partition: number; [k: string]: unknown };

export interface SendMessagesDeps {
  logger: { debug(msg: string, extra?: object): void; error(msg: string, extra?: object): void };
  cluster: Cluster;
  partitioner: unknown;
  eosManager: EosManager;
  retrier: Retrier;
  /** kafkajs's own helpers, passed in so that this file can be tested without kafkajs's internals */
  groupMessagesPerPartition(args: { topic: string; partitionMetadata: unknown[]; messages: unknown[]; partitioner: unknown }): Record<string, unknown[]>;
  responseSerializer(response: any): ResponseEntry[];
  staleMetadata(err: unknown): boolean;
  metadataNotLoaded(message: string): Error;
}

export function createSendMessages(deps: SendMessagesDeps) {
  const { logger, cluster, partitioner, eosManager, retrier } = deps;
  return async ({ acks, timeout, compression, topicMessages }: { acks: number; timeout?: number; compression?: unknown; topicMessages: TopicMessages[] }) => {
    /** `topic\0partition` → its answer, for every partition the cluster acknowledged so far */
    const acknowledged = new Map<string, ResponseEntry[]>();
    const keyOf = (topic: string, partition: number | string) => `${topic}\u0000${partition}`;

    const attempt = async () => {
      await cluster.refreshMetadataIfNecessary();
      /** leader node id → topic → [partition, messages][] still to send */
      const perLeader = new Map<string, Map<string, { partition: number; messages: unknown[] }[]>>();
      for (const { topic, messages } of topicMessages) {
        const partitionMetadata = cluster.findTopicPartitionMetadata(topic);
        if (partitionMetadata.length === 0) {
          logger.debug('Producing to topic without metadata', { topic });
          throw deps.metadataNotLoaded('Producing to topic without metadata');
        }
        const messagesPerPartition = deps.groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner });
        const pending = Object.keys(messagesPerPartition).filter((p) => !acknowledged.has(keyOf(topic, p)));
        if (!pending.length) continue;
        const partitionsPerLeader = cluster.findLeaderForPartitions(topic, pending);
        const placed = Object.values(partitionsPerLeader).reduce((n, ps) => n + ps.length, 0);
        if (placed !== pending.length) throw deps.metadataNotLoaded(`no leader known for some partitions of ${topic}`);
        for (const [leader, partitions] of Object.entries(partitionsPerLeader)) {
          let topics = perLeader.get(leader);
          if (!topics) perLeader.set(leader, (topics = new Map()));
          topics.set(
            topic,
            partitions.map((partition) => ({ partition, messages: messagesPerPartition[partition] })),
          );
        }
      }

      // every request settles before a retry: one still in flight when another failed would
      // otherwise be sent again (a duplicate) before its answer is recorded
      const settled = await Promise.allSettled(
        [...perLeader].map(async ([nodeId, topics]) => {
          const broker = await cluster.findBroker({ nodeId });
          const topicData = [...topics].map(([topic, partitions]) => ({ topic, partitions }));
          await eosManager.acquireBrokerLock(broker);
          try {
            if (eosManager.isTransactional()) await eosManager.addPartitionsToTransaction(topicData);
            for (const { topic, partitions } of topicData) {
              for (const entry of partitions as { partition: number; messages: unknown[]; firstSequence?: number }[]) {
                entry.firstSequence = eosManager.getSequence(topic, entry.partition);
                eosManager.updateSequence(topic, entry.partition, entry.messages.length);
              }
            }
            let response;
            try {
              response = await broker.produce({
                transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
                producerId: eosManager.getProducerId(),
                producerEpoch: eosManager.getProducerEpoch(),
                acks,
                timeout,
                compression,
                topicData,
              });
            } catch (e) {
              for (const { topic, partitions } of topicData) {
                for (const entry of partitions) eosManager.updateSequence(topic, entry.partition, -entry.messages.length);
              }
              throw e;
            }
            const entries = acks !== 0 ? deps.responseSerializer(response) : [];
            for (const { topic, partitions } of topicData) {
              for (const { partition } of partitions) {
                acknowledged.set(
                  keyOf(topic, partition),
                  entries.filter((r) => r.topicName === topic && Number(r.partition) === Number(partition)),
                );
              }
            }
          } finally {
            await eosManager.releaseBrokerLock(broker);
          }
        }),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };

    return retrier(async (bail, retryCount, retryTime) => {
      await cluster.addMultipleTargetTopics(topicMessages.map(({ topic }) => topic));
      try {
        await attempt();
        return [...acknowledged.values()].flat();
      } catch (e: any) {
        if (e.name === 'KafkaJSConnectionClosedError') cluster.removeBroker({ host: e.host, port: e.port });
        if (!cluster.isConnected()) {
          logger.debug(`Cluster has disconnected, reconnecting: ${e.message}`, { retryCount, retryTime });
          await cluster.connect();
          await cluster.refreshMetadata();
          throw e;
        }
        if (
          deps.staleMetadata(e) ||
          e.name === 'KafkaJSMetadataNotLoaded' ||
          e.name === 'KafkaJSConnectionError' ||
          e.name === 'KafkaJSConnectionClosedError' ||
          (e.name === 'KafkaJSProtocolError' && e.retriable)
        ) {
          logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime });
          await cluster.refreshMetadata();
          throw e;
        }
        logger.error(`${e.message}`, { retryCount, retryTime });
        if (e.retriable) throw e;
        bail(e);
        return [];
      }
    });
  };
}
