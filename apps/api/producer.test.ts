import { partitionFor } from '../../libs/kafka/murmur2';
import { EventProducer } from './producer';

test("partitionFor is the murmur2 partition of the key over the topic's partitions (as kafkajs's default: libs/kafka/murmur2.test.ts)", () => {
  const producer = new EventProducer({ producer: () => ({}) } as never, ['t']);
  (producer as unknown as { partitionCounts: Map<string, number> }).partitionCounts.set('t', 6);
  for (const key of ['Widget', 'bench product 1', 'ü', '']) expect(producer.partitionFor('t', key)).toBe(partitionFor(key, 6));
  expect(() => producer.partitionFor('u', 'Widget')).toThrow('unknown topic u');
});
