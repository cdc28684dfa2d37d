import { KafkaError } from '../errors';
import { Admin, ConfigResourceTypes, ConfigSource, NewTopic } from './port';

/**
 * The topic model: every topic dasy uses, declared once with its key and partition count.
 * Topic names are `<namespace>.<name>`; consumer groups are `<namespace>.<app>`. A topic's wire
 * format lives beside it, read by its producer and its consumer alike (product-value.ts).
 */
export interface TopicSpec {
  /** suffix after the namespace */
  name: string;
  /** what the message key is: all messages of one key go to one partition, in order */
  key: string;
  partitions: number;
  /** consumed topics get a `<topic>.dlq` for messages that can never be applied */
  deadLetter: boolean;
  /**
   * A changelog: `cleanup.policy=compact`, so the topic keeps the latest record of every key (a
   * null value, a tombstone, deletes the key and is itself removed after delete.retention.ms).
   */
  compact?: boolean;
}

export const TOPICS = {
  products: { name: 'products', key: 'sku', partitions: 6, deadLetter: true, compact: true },
  productsRejects: { name: 'products.rejects', key: 'file:line', partitions: 1, deadLetter: false },
  productCount: { name: 'product-count', key: 'name', partitions: 6, deadLetter: true },
  scores: { name: 'scores', key: 'product name', partitions: 6, deadLetter: true },
  adEvents: { name: 'ad-events', key: 'username', partitions: 6, deadLetter: true },
} as const satisfies Record<string, TopicSpec>;

export type TopicId = keyof typeof TOPICS;

export function topicName(namespace: string, id: TopicId): string {
  return `${namespace}.${TOPICS[id].name}`;
}

export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

export function groupId(namespace: string, app: string): string {
  return `${namespace}.${app}`;
}

/** Every topic name of a namespace, dead-letter topics included. */
export function allTopicNames(namespace: string): string[] {
  const names: string[] = [];
  for (const id of Object.keys(TOPICS) as TopicId[]) {
    const name = topicName(namespace, id);
    names.push(name);
    if (TOPICS[id].deadLetter) names.push(deadLetterTopic(name));
  }
  return names;
}

/**
 * Create the namespace's topics that do not exist yet (idempotent). Replication follows the
 * cluster: 3 replicas with min.insync.replicas=2 on three or more brokers, else 1. A changelog
 * topic that exists without compaction (created before it was one) is switched to it.
 */
export async function ensureTopics(admin: Admin, namespace: string): Promise<string[]> {
  return ensureNamedTopics(
    admin,
    (Object.keys(TOPICS) as TopicId[]).map((id) => ({ name: topicName(namespace, id), spec: TOPICS[id] })),
  );
}

/** Create these topics (full names) unless they exist, as ensureTopics does the namespace's. */
export async function ensureNamedTopics(admin: Admin, topics: { name: string; spec: TopicSpec }[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const cluster = await admin.describeCluster();
  const replicationFactor = Math.min(3, cluster.brokers.length);
  const minInsync = replicationFactor >= 3 ? 2 : 1;
  const wanted: NewTopic[] = [];
  for (const { name, spec } of topics) {
    const configEntries = [
      { name: 'min.insync.replicas', value: String(minInsync) },
      // a valid record may be 1 MiB of CSV, more once JSON-escaped (the broker's default limit
      // for a record batch is 1 MiB): room for it, in the topic and in its dead-letter topic
      { name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) },
    ];
    if (!existing.has(name))
      wanted.push({
        topic: name,
        numPartitions: spec.partitions,
        replicationFactor,
        configEntries: spec.compact ? [...configEntries, { name: 'cleanup.policy', value: 'compact' }] : configEntries,
      });
    else if (spec.compact) await ensureCompacted(admin, name);
    const dlq = deadLetterTopic(name);
    if (spec.deadLetter && !existing.has(dlq)) wanted.push({ topic: dlq, numPartitions: 1, replicationFactor, configEntries });
  }
  if (wanted.length) {
    try {
      await admin.createTopics({ topics: wanted, waitForLeaders: false });
    } catch (err) {
      // Another process may have created them between listTopics and createTopics.
      if (!alreadyExists(err)) throw err;
    }
    await waitForLeaders(
      admin,
      wanted.map((t) => t.topic),
    );
  }
  return wanted.map((t) => t.topic);
}

/**
 * `cleanup.policy=compact` on an existing topic, unless it has it. AlterConfigs (the API kafkajs
 * speaks) replaces every topic-level setting of the topic: the ones it has are sent along.
 */
export async function ensureCompacted(admin: Admin, topic: string): Promise<boolean> {
  const entries = await topicLevelConfigs(admin, topic);
  if (entries.get('cleanup.policy') === 'compact') return false;
  entries.set('cleanup.policy', 'compact');
  await setTopicConfigs(admin, topic, entries);
  return true;
}

/** The settings made on the topic itself (not broker defaults). */
export async function topicLevelConfigs(admin: Admin, topic: string): Promise<Map<string, string>> {
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  const entries = described.resources[0]?.configEntries ?? [];
  return new Map(entries.filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG).map((e) => [e.configName, e.configValue]));
}

/** Replace the topic's topic-level settings with these (AlterConfigs). */
export async function setTopicConfigs(admin: Admin, topic: string, entries: Map<string, string>): Promise<void> {
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [...entries].map(([name, value]) => ({ name, value })) }],
  });
}

/** Every error of a (possibly aggregate) topic creation error says the topic exists. */
function alreadyExists(err: unknown): boolean {
  if (err instanceof KafkaError) return err.type === 'TOPIC_ALREADY_EXISTS' || alreadyExists(err.cause);
  const e = err as { message?: string; errors?: unknown[]; type?: string };
  if (Array.isArray(e.errors) && e.errors.length) return e.errors.every(alreadyExists);
  return e.type === 'TOPIC_ALREADY_EXISTS' || /already exists/i.test(String(e.message));
}

/**
 * Until every partition of these topics has a leader, as the brokers' metadata says. On several
 * brokers the metadata of a new topic reaches them one after another: kafkajs's own wait can
 * fail on a broker that does not know the topic yet, so this asks again.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const known = new Set(await admin.listTopics());
      if (topics.every((t) => known.has(t))) {
        const meta = await admin.fetchTopicMetadata({ topics });
        if (meta.topics.length === topics.length && meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Largest record batch the namespace's topics accept. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** Delete the namespace's topics that exist (for `make reset`). */
export async function deleteTopics(admin: Admin, namespace: string): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const doomed = allTopicNames(namespace).filter((t) => existing.has(t));
  if (doomed.length) await admin.deleteTopics({ topics: doomed, timeout: 30000 });
  return doomed;
}

/**
 * Messages of the partitions in `end` (their end offsets) not yet reached by `at` (the next offset
 * a group will read or apply, per partition): a partition missing from `at` counts whole, one at
 * or past its end counts nothing.
 */
export function totalLag(end: Map<number, bigint>, at: Map<number, bigint>): bigint {
  let lag = 0n;
  for (const [p, high] of end) {
    const next = at.get(p) ?? 0n;
    if (next < high) lag += high - next;
  }
  return lag;
}

/** High watermark (next offset to be written) per partition. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}
