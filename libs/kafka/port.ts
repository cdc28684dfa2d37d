/**
 * The Kafka port: the only types of the Kafka client the rest of dasy sees (ARCHITECTURE.md,
 * "Changing the Kafka client"). They are dasy's own, shaped after what dasy uses; libs/kafka
 * alone implements them over kafkajs (client.ts, consumer.ts) and turns the client's errors into
 * dasy's KafkaError (errors.ts). Another client means another implementation of this file's
 * interfaces, in this folder only.
 */

export type HeaderValue = Buffer | string;
export type MessageHeaders = Record<string, HeaderValue | HeaderValue[] | undefined>;

/** A message read from a partition. key and value are the client's Buffers, not copies (views into the fetch). */
export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: MessageHeaders;
  offset: bigint;
  /** milliseconds since the epoch, as a decimal string (the record's CreateTime or LogAppendTime) */
  timestamp: string;
}

/** A message to send: no partition means the key's murmur2 partition (as the Java client's). */
export interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: MessageHeaders;
  timestamp?: string;
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

/** What the broker acknowledged of one partition of a send: where its first message landed. */
export interface SendResult {
  topicName: string;
  partition: number;
  errorCode: number;
  /** offset of the partition's first message of the send (decimal) */
  baseOffset?: string;
  /** the same, under its older name */
  offset?: string;
}

export interface RetryOptions {
  retries?: number;
  initialRetryTime?: number;
  maxRetryTime?: number;
}

export interface ProducerConfig {
  idempotent?: boolean;
  maxInFlightRequests?: number;
  allowAutoTopicCreation?: boolean;
  retry?: RetryOptions;
}

/** acks: -1 waits for every in-sync replica. */
export interface Producer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: Message[]; acks?: number; timeout?: number }): Promise<SendResult[]>;
  sendBatch(batch: { topicMessages: TopicMessages[]; acks?: number; timeout?: number }): Promise<SendResult[]>;
}

/** One fetch's messages of one partition. */
export interface Batch {
  topic: string;
  partition: number;
  /** the messages, in offset order (never empty) */
  messages: KafkaMessage[];
  /** the offset the fetch ends at: its last message's, or later (a record batch compaction emptied at its end) */
  lastOffset: bigint;
  /** the partition's next offset to be written, when fetched */
  highWatermark: bigint;
}

export interface EachBatchPayload {
  batch: Batch;
  /** the consumer's position moves past `offset` (with autoResolve off, nothing else moves it) */
  resolveOffset(offset: bigint): void;
  heartbeat(): Promise<void>;
  /** false once the consumer stops */
  isRunning(): boolean;
  /** true once the partition was sought: the batch was fetched before */
  isStale(): boolean;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat(): Promise<void>;
}

export interface ConsumerConfig {
  groupId: string;
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  heartbeatInterval?: number;
  maxWaitTimeInMs?: number;
  maxBytesPerPartition?: number;
  maxBytes?: number;
  retry?: RetryOptions;
  /** false: a consumer that crashed stays stopped (its owner restarts it); default: the client restarts it */
  restartOnFailure?: boolean;
}

export interface ConsumerRunConfig {
  /** commit the group's offsets as messages are resolved (default true) */
  autoCommit?: boolean;
  /** resolve a batch's last offset once eachBatch returns (default true) */
  eachBatchAutoResolve?: boolean;
  partitionsConsumedConcurrently?: number;
  eachBatch?(payload: EachBatchPayload): Promise<void>;
  eachMessage?(payload: EachMessagePayload): Promise<void>;
}

/** A fetch that held no message for eachBatch (compaction emptied it): the consumer moved past lastOffset. */
export interface EmptyFetch {
  topic: string;
  partition: number;
  /** its first offset holding a record compaction left empty, or null when it held none at or after the fetch */
  firstOffset: bigint | null;
  lastOffset: bigint;
}

export interface ConsumerEventMap {
  /** the group assigned this member its partitions (per topic) */
  'group:join': [assignment: Record<string, number[]>];
  'fetch:empty': [fetch: EmptyFetch];
  /** the consumer stopped on an error (dasy's, made at the port); `restart`: the client starts it again */
  crash: [error: unknown, restart: boolean];
}

/** A member of a consumer group. */
export interface Consumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topic: string; fromBeginning?: boolean }): Promise<void>;
  /** starts fetching; resolves once running */
  run(config: ConsumerRunConfig): Promise<void>;
  /** fetch the partition from `offset` on (what was fetched before is dropped) */
  seek(topic: string, partition: number, offset: bigint): void;
  /** commit the group's offsets (the next offset to consume) */
  commitOffsets(offsets: { topic: string; partition: number; offset: bigint }[]): Promise<void>;
  on<E extends keyof ConsumerEventMap>(event: E, listener: (...args: ConsumerEventMap[E]) => void): void;
}

/** A partition's offsets: low (its log start), high (its next offset to be written), as decimals. */
export interface PartitionOffsets {
  partition: number;
  offset: string;
  high: string;
  low: string;
}

export interface PartitionMetadata {
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface TopicMetadata {
  name: string;
  partitions: PartitionMetadata[];
}

export interface ConfigEntry {
  name: string;
  value: string;
}

export interface NewTopic {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  configEntries?: ConfigEntry[];
}

/** The kind of resource a config belongs to (Kafka's numbering). */
export const ConfigResourceTypes = { TOPIC: 2, BROKER: 4 } as const;
/** Where a config value comes from (Kafka's numbering): TOPIC_CONFIG is a topic's own setting. */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

export interface ConfigResource {
  type: (typeof ConfigResourceTypes)[keyof typeof ConfigResourceTypes];
  name: string;
  configNames?: string[];
}

export interface DescribedConfigEntry {
  configName: string;
  configValue: string;
  configSource: number;
  isDefault: boolean;
  readOnly: boolean;
  isSensitive: boolean;
}

export interface DescribedConfigs {
  resources: { resourceName: string; resourceType: number; errorCode: number; configEntries: DescribedConfigEntry[] }[];
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocol: string;
  /** memberAssignment: the group protocol's bytes (groups.ts memberPartitions reads a consumer's) */
  members: { memberId: string; clientId: string; clientHost: string; memberAssignment: Buffer }[];
}

/** The admin requests dasy makes. */
export interface Admin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  createTopics(options: { topics: NewTopic[]; waitForLeaders?: boolean; timeout?: number }): Promise<boolean>;
  deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void>;
  describeCluster(): Promise<{ brokers: { nodeId: number; host: string; port: number }[]; controller: number | null; clusterId: string }>;
  fetchTopicMetadata(options: { topics: string[] }): Promise<{ topics: TopicMetadata[] }>;
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** a group's committed offsets, per topic and partition ("-1": none) */
  fetchOffsets(options: { groupId: string; topics: string[] }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  describeConfigs(options: { resources: ConfigResource[]; includeSynonyms: boolean }): Promise<DescribedConfigs>;
  /** replaces every setting of the resource made on it (AlterConfigs) */
  alterConfigs(options: { validateOnly: boolean; resources: (ConfigResource & { configEntries: ConfigEntry[] })[] }): Promise<unknown>;
  listGroups(): Promise<{ groups: { groupId: string; protocolType: string }[] }>;
  describeGroups(groupIds: string[]): Promise<{ groups: GroupDescription[] }>;
  deleteGroups(groupIds: string[]): Promise<unknown>;
}

/** One Kafka client of a process (libs/kafka/client.ts createKafka). */
export interface Kafka {
  producer(config?: ProducerConfig): Producer;
  consumer(config: ConsumerConfig): Consumer;
  admin(): Admin;
}
