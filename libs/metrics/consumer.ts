import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BatchConsumer } from '../consumer';
import { perRegistry, SECONDS_BUCKETS } from './registry';

/** A consumer of this process, with the group and topic (full names) its series carry. */
export interface ObservedConsumer {
  consumer: BatchConsumer;
  group: string;
  topic: string;
}

/**
 * Whether a consumer is a member of its group now (since its last join, and not since a crash:
 * it is being restarted), and its partitions. Read by the metrics and by /readyz.
 */
export class Membership {
  joined = false;
  partitions: number[] = [];
  /** an event came since it was observed: it says the state, not the first join */
  private told = false;
  constructor(readonly observed: ObservedConsumer) {
    const { consumer } = observed;
    consumer.events.on('joined', (partitions) => this.set(true, partitions));
    consumer.events.on('crash', () => this.set(false, []));
    // it may have joined before it was observed (joined() then resolves at once)
    consumer.joined().then(
      (partitions) => !this.told && this.set(true, partitions),
      () => undefined,
    );
  }
  private set(joined: boolean, partitions: number[]) {
    this.told = true;
    this.joined = joined;
    this.partitions = partitions;
  }
}

const labelNames = ['group', 'topic'] as const;

/** What this process's consumers do (per process: the exporter has each group's view from PostgreSQL and Kafka). */
const consumerMetrics = perRegistry((registry: Registry) => {
  const memberships: Membership[] = [];
  /** a gauge summed over this process's consumers, at every scrape */
  const perMember = (name: string, help: string, value: (m: Membership) => number) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const m of memberships) this.inc({ group: m.observed.group, topic: m.observed.topic }, value(m));
      },
    });
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames, registers: [registry] });
  return {
    memberships,
    batches: counter('dasy_consumer_batches_committed_total', 'batches this process committed (effects and offsets in one PostgreSQL transaction)'),
    records: counter('dasy_consumer_records_applied_total', 'messages this process applied (committed and not dead-lettered)'),
    duration: new Histogram({
      name: 'dasy_consumer_batch_duration_seconds',
      help: 'from a batch fetched to its transaction committed',
      labelNames,
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    }),
    fenced: counter('dasy_consumer_fenced_batches_total', 'batches rolled back because their partition was not stored at their first offset (the fence)'),
    deadLettered: counter('dasy_consumer_dead_lettered_messages_total', 'messages this process sent to the dead-letter topic'),
    restarts: counter('dasy_consumer_restarts_total', 'times a consumer of this process stopped on an error and was started again'),
    members: perMember('dasy_consumer_members_joined', 'consumers of this process that are members of their group now', (m) => (m.joined ? 1 : 0)),
    partitions: perMember('dasy_consumer_assigned_partitions', 'partitions assigned to the consumers of this process', (m) =>
      m.joined ? m.partitions.length : 0,
    ),
  };
});

/** Count what these consumers do, in `registry`; returns their memberships (for readiness). */
export function observeConsumers(registry: Registry, consumers: ObservedConsumer[]): Membership[] {
  const m = consumerMetrics(registry);
  const added = consumers.map((c) => new Membership(c));
  m.memberships.push(...added);
  for (const { consumer, group, topic } of consumers) {
    const labels = { group, topic };
    for (const c of [m.batches, m.records, m.fenced, m.deadLettered, m.restarts]) c.inc(labels, 0); // every series from the start
    m.duration.zero(labels);
    // messages of the batch in flight, per partition (one batch per partition at a time)
    const fetched = new Map<number, number>();
    consumer.events.on('batch:fetched', (info, messages) => fetched.set(info.partition, messages));
    consumer.events.on('batch:committed', (info, detail) => {
      const messages = fetched.get(info.partition) ?? detail.records + detail.deadLetters;
      fetched.delete(info.partition);
      m.batches.inc(labels);
      m.records.inc(labels, Math.max(0, messages - detail.deadLetters));
      m.duration.observe(labels, detail.seconds);
    });
    consumer.events.on('fenced', () => m.fenced.inc(labels));
    consumer.events.on('dead-lettered', (_dlq, count) => m.deadLettered.inc(labels, count));
    consumer.events.on('crash', () => m.restarts.inc(labels));
  }
  return added;
}
