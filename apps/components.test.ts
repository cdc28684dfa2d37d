import { loadConfig } from '../libs/config';
import type { Kafka } from '../libs/kafka/port';
import { createLogger } from '../libs/log';
import { consumerComponent } from '../libs/runtime/consumer-component';
import { CONSUMER_PARTS, CONSUMERS, eventsConsumer, scoresConsumer } from './components';

/** A Kafka client that records the consumers asked of it (nothing connects). */
function recordingKafka() {
  const asked: Record<string, unknown>[] = [];
  const kafka = { consumer: (options: Record<string, unknown>) => (asked.push(options), { on: () => undefined }) } as unknown as Kafka;
  return { kafka, asked };
}

const logger = createLogger('test', 'error');

describe('the consumer parts, built one way', () => {
  it("builds the api's scores consumer from the part's settings: its group, fetch sizes and pool", async () => {
    const { kafka, asked } = recordingKafka();
    const config = loadConfig({ DASY_NAMESPACE: 'ns1' });
    const scores = await consumerComponent(CONSUMER_PARTS.scores, { config, logger, kafka }, { onApplied: () => undefined });
    try {
      expect(scores.consumers).toHaveLength(1);
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatchObject({ groupId: 'ns1.scores-consumer', maxWaitTimeInMs: 100, maxBytesPerPartition: 1024 * 1024 });
      // one connection per batch in flight, with the pipeline's session settings
      expect(scores.pool.options.max).toBe(6);
      expect(scores.pool.options.application_name).toBe('dasy-scores-consumer');
      expect(new URL(scores.pool.options.connectionString!).searchParams.get('options')).toBe('-c jit=off -c search_path="ns1"');
    } finally {
      await scores.pool.end();
    }
  });

  it('applies DASY_CONSUMER_TUNING to the api’s consumers as to any part: all parts, then the part’s own keys', async () => {
    const { kafka, asked } = recordingKafka();
    const config = loadConfig({ DASY_CONSUMER_TUNING: 'concurrency=2,events-consumer.members=2,events-consumer.maxBytesPerPartition=4096' });
    const events = await consumerComponent(CONSUMER_PARTS.events, { config, logger, kafka });
    try {
      expect(events.consumers).toHaveLength(2);
      expect(asked.map((o) => [o.groupId, o.maxBytesPerPartition])).toEqual([
        ['dasy.events-consumer', 4096],
        ['dasy.events-consumer', 4096],
      ]);
      expect(events.pool.options.max).toBe(4);
    } finally {
      await events.pool.end();
    }
  });

  it('runs each part in a process of its own under its name, consuming what the part declares', () => {
    expect([scoresConsumer.name, scoresConsumer.consumes]).toEqual(['scores-consumer', { topic: 'scores', group: 'scores-consumer' }]);
    expect([eventsConsumer.name, eventsConsumer.consumes]).toEqual(['events-consumer', { topic: 'adEvents', group: 'events-consumer' }]);
    expect(CONSUMERS.map((c) => c.consumes)).toEqual(Object.values(CONSUMER_PARTS).map((p) => ({ topic: p.topic, group: p.group })));
  });
});
