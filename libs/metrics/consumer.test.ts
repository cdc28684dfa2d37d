import { Registry } from 'prom-client';
import { BatchConsumer, ConsumerEvents } from '../consumer';
import { observeConsumers } from './consumer';

/** A consumer that only tells: its events are the test's to emit. */
function fakeConsumer(): BatchConsumer & { events: ConsumerEvents } {
  const events = new ConsumerEvents();
  return {
    events,
    start: async () => undefined,
    stop: async () => undefined,
    progress: () => [],
    assignedPartitions: () => [],
    joined: () => new Promise((resolve) => events.once('joined', resolve)),
  };
}

const info = (partition: number, firstOffset: bigint, nextOffset: bigint) => ({ topic: 't', partition, firstOffset, nextOffset, highWatermark: nextOffset });

async function values(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await registry.getMetricsAsJSON())
    for (const v of m.values as { value: number; labels: Record<string, string>; metricName?: string }[]) {
      if (!v.labels.group) continue;
      const extra = v.labels.le === undefined ? '' : `{le=${v.labels.le}}`;
      out[`${v.metricName ?? m.name}${extra} ${v.labels.group}`] = v.value;
    }
  return out;
}

test('batches, applied records (dead letters excluded), durations, fences and memberships per group', async () => {
  const registry = new Registry();
  const a = fakeConsumer();
  const b = fakeConsumer();
  const memberships = observeConsumers(registry, [
    { consumer: a, group: 'g1', topic: 't1' },
    { consumer: b, group: 'g2', topic: 't2' },
  ]);
  a.events.emit('joined', [0, 1, 2]);
  a.events.emit('batch:fetched', info(0, 0n, 10n), 10);
  a.events.emit('dead-lettered', 't1.dlq', 2, 'bad json');
  a.events.emit('batch:committed', info(0, 0n, 10n), { records: 9, deadLetters: 2, seconds: 0.02 }); // 1 poison + 1 refused
  a.events.emit('batch:fetched', info(1, 0n, 5n), 5);
  a.events.emit('batch:committed', info(1, 0n, 5n), { records: 5, deadLetters: 0, seconds: 2 });
  a.events.emit('fenced', info(2, 7n, 9n), 3n);
  b.events.emit('joined', [0]);
  b.events.emit('crash', new Error('broker gone'), true);
  const v = await values(registry);
  expect([memberships.map((m) => m.joined), v]).toEqual([
    [true, false],
    expect.objectContaining({
      'dasy_consumer_batches_committed_total g1': 2,
      'dasy_consumer_records_applied_total g1': 13,
      'dasy_consumer_batch_duration_seconds_count g1': 2,
      'dasy_consumer_batch_duration_seconds_sum g1': 2.02,
      'dasy_consumer_batch_duration_seconds_bucket{le=0.025} g1': 1,
      'dasy_consumer_batch_duration_seconds_bucket{le=2.5} g1': 2,
      'dasy_consumer_fenced_batches_total g1': 1,
      'dasy_consumer_dead_lettered_messages_total g1': 2,
      'dasy_consumer_members_joined g1': 1,
      'dasy_consumer_assigned_partitions g1': 3,
      'dasy_consumer_batches_committed_total g2': 0,
      'dasy_consumer_restarts_total g2': 1,
      'dasy_consumer_members_joined g2': 0,
      'dasy_consumer_assigned_partitions g2': 0,
    }),
  ]);
});
