import { Partitioners } from 'kafkajs';
import { EventProducer } from './producer';

test('partitionFor agrees with the default murmur2 partitioner', () => {
  const producer = new EventProducer({ producer: () => ({}) } as never, ['t']);
  (producer as unknown as { partitionCounts: Map<string, number> }).partitionCounts.set('t', 6);
  const reference = Partitioners.DefaultPartitioner();
  const metadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [], isr: [], partitionErrorCode: 0 }));
  for (const key of ['Widget', 'bench product 1', 'ü', '']) {
    const expected = reference({ topic: 't', partitionMetadata: metadata, message: { key, value: null } });
    expect(producer.partitionFor('t', key)).toBe(expected);
  }
});
