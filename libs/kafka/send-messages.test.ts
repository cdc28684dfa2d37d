import { KafkaJSConnectionError } from 'kafkajs';
import sendMessages from 'kafkajs/src/producer/sendMessages';

/**
 * The installed kafkajs's producer send (patches/kafkajs+2.2.4.patch): the retry of a send when a
 * broker dies mid-send, its partitions moving to a broker that already answered for its own:
 * kafkajs 2.2.4 skipped them (lost); every partition must be written once. The cluster here is a
 * stand-in of kafkajs's Cluster (leaders per partition, brokers that answer or fail); the real
 * thing is exercised by `make chaos` (cluster3).
 */
function world(leaders: Record<number, number | undefined> = { 0: 1, 1: 2, 2: 2 }) {
  const produced: { broker: number; partitions: { partition: number; count: number; firstSequence: number }[] }[] = [];
  const sequences = new Map<number, number>();
  let brokerOneUp = true;
  let refreshes = 0;
  const broker = (nodeId: number) => ({
    nodeId,
    produce(request: { topicData: { topic: string; partitions: { partition: number; messages: unknown[]; firstSequence: number }[] }[] }) {
      if (nodeId === 1 && !brokerOneUp) return Promise.reject(new KafkaJSConnectionError('Connection error: read ECONNRESET'));
      const partitions = request.topicData.flatMap((t) =>
        t.partitions.map((p) => ({ partition: p.partition, count: p.messages.length, firstSequence: p.firstSequence })),
      );
      produced.push({ broker: nodeId, partitions });
      return Promise.resolve({
        topics: request.topicData.map((t) => ({
          topicName: t.topic,
          partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })),
        })),
      });
    },
  });
  const brokers = new Map([1, 2].map((n) => [n, broker(n)]));
  const cluster = {
    async refreshMetadataIfNecessary() {},
    refreshMetadata() {
      refreshes++;
      // broker 1 is gone: its partition moved to broker 2, which answered already
      if (!brokerOneUp) leaders[0] = 2;
      // a partition the metadata did not list yet (stale, partitions just added) is there now
      for (const p of [0, 1, 2]) leaders[p] ??= 1;
      return Promise.resolve();
    },
    findTopicPartitionMetadata: () => [0, 1, 2].filter((p) => leaders[p] !== undefined).map((partitionId) => ({ partitionId, leader: leaders[partitionId] })),
    // as kafkajs's: a partition the metadata does not list is left out
    findLeaderForPartitions(_topic: string, partitions: (string | number)[]) {
      const out: Record<string, number[]> = {};
      for (const p of partitions.map(Number)) {
        const leader = leaders[p];
        if (leader !== undefined) (out[leader] ??= []).push(p);
      }
      return out;
    },
    findBroker: ({ nodeId }: { nodeId: string | number }) => Promise.resolve(brokers.get(Number(nodeId))!),
    async addMultipleTargetTopics() {},
    isConnected: () => true,
    async connect() {},
    removeBroker() {},
  };
  const eosManager = {
    isTransactional: () => false,
    async addPartitionsToTransaction() {},
    getSequence: (_t: string, p: number) => sequences.get(p) ?? 0,
    updateSequence: (_t: string, p: number, n: number) => void sequences.set(p, (sequences.get(p) ?? 0) + n),
    getTransactionalId: () => '',
    getProducerId: () => 7,
    getProducerEpoch: () => 0,
    async acquireBrokerLock() {},
    async releaseBrokerLock() {},
  };
  const retrier = async <T>(fn: (bail: (e: Error) => void, n: number, t: number) => Promise<T>): Promise<T> => {
    for (let n = 0; ; n++) {
      try {
        return await fn(
          (e) => {
            throw e;
          },
          n,
          0,
        );
      } catch (e) {
        if (n >= 5) throw e;
      }
    }
  };
  const send = sendMessages({
    logger: { debug() {}, error() {} },
    cluster,
    partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    eosManager,
    retrier,
  });
  return { send, produced, sequences, refreshes: () => refreshes, killBrokerOne: () => (brokerOneUp = false) };
}

const messages = [0, 1, 2, 0, 1, 2, 0].map((partition, i) => ({ partition, key: `k${i}`, value: `v${i}` }));

test('a partition whose broker died mid-send is resent to its new leader, even one that already answered', async () => {
  const w = world();
  w.killBrokerOne();
  const result = await w.send({ acks: -1, topicMessages: [{ topic: 't', messages }] });
  // partitions 1 and 2 once (broker 2's first answer), then partition 0 once at its new leader
  expect(w.produced).toEqual([
    {
      broker: 2,
      partitions: [
        { partition: 1, count: 2, firstSequence: 0 },
        { partition: 2, count: 2, firstSequence: 0 },
      ],
    },
    { broker: 2, partitions: [{ partition: 0, count: 3, firstSequence: 0 }] },
  ]);
  expect(result.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
  // the failed request gave its sequence numbers back: each partition's advanced by its messages
  expect([...w.sequences].sort()).toEqual([
    [0, 3],
    [1, 2],
    [2, 2],
  ]);
});

test('without failures, one request per leader and every partition answered once', async () => {
  const w = world();
  const result = await w.send({ acks: -1, topicMessages: [{ topic: 't', messages }] });
  expect(w.produced.map((p) => [p.broker, p.partitions.map((x) => x.partition)]).sort()).toEqual([
    [1, [0]],
    [2, [1, 2]],
  ]);
  expect(result.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
});

test('a partition the metadata does not list yet is sent after a refresh, not dropped', async () => {
  const w = world({ 0: 1, 1: 2, 2: undefined });
  const result = await w.send({ acks: -1, topicMessages: [{ topic: 't', messages }] });
  expect(w.refreshes()).toBe(1);
  expect(w.produced.map((p) => [p.broker, p.partitions.map((x) => x.partition)]).sort()).toEqual([
    [1, [0, 2]],
    [2, [1]],
  ]);
  expect(result.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
});
