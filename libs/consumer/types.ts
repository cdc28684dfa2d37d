import { Pool, PoolClient } from 'pg';
import { Kafka, KafkaMessage } from '../kafka/port';
import { Logger } from '../log';
import { BatchInfo, DeadLetter } from './batch';
import { ConsumerEvents } from './events';

export type { BatchInfo, DeadLetter } from './batch';

/**
 * What an app supplies: how to decode a message and how to apply a batch of decoded messages
 * inside the batch's transaction. Everything else is the consumer base's.
 */
export interface BatchApp<T> {
  /** Turn a message into the app's item; throw PoisonMessageError when it can never be applied. */
  decode(message: KafkaMessage, partition: number): T;
  /**
   * Apply items (in offset order) inside the batch's transaction: the batch at once (once per
   * transaction), or, on the item-by-item path (libs/consumer/commit.ts), one message per call,
   * in offset order, many calls in one transaction. A call's cost must be its items' alone.
   */
  apply(client: PoolClient, items: T[], batch: BatchInfo): Promise<void>;
  /**
   * Optional, for the coalesce strategy: apply the batches of several partitions (each in offset
   * order) inside one transaction, e.g. in one statement. Without it they are applied in turn.
   */
  applyMany?(client: PoolClient, batches: { items: T[]; batch: BatchInfo }[]): Promise<void>;
  /**
   * Optional: inside the batch's transaction, the messages it skips, sent to the dead-letter topic
   * before that transaction began (undecodable, or refused by PostgreSQL), e.g. to record them
   * beside the data: they commit with the offsets.
   */
  deadLettered?(client: PoolClient, letters: DeadLetter[], batch: BatchInfo): Promise<void>;
  /**
   * After the transaction committed (e.g. to wake readers in this process), with its dead letters.
   * Not part of the commit: a throw is logged, the batch stays committed and is not retried.
   */
  afterCommit?(items: T[], batch: BatchInfo, deadLettered: DeadLetter[]): void;
}

export interface PartitionProgress {
  topic: string;
  partition: number;
  /** next offset to apply (stored) */
  offset: bigint;
  highWatermark: bigint;
  lag: bigint;
}

export interface BatchConsumerOptions<T> {
  kafka: Kafka;
  pool: Pool;
  logger: Logger;
  groupId: string;
  topic: string;
  app: BatchApp<T>;
  /** bytes fetched per partition per request: bounds the batch size */
  maxBytesPerPartition?: number;
  /** batches applied at once (each with its own connection) */
  partitionsConsumedConcurrently?: number;
  /** how long an idle fetch waits at the broker: bounds the latency of a new message */
  maxWaitTimeInMs?: number;
  /** group session timeout (the broker's minimum is 6 s): how long a silent member keeps its partitions */
  sessionTimeout?: number;
  /** how each batch is committed (commit-strategy.ts); plain unless said */
  commit?: CommitStrategyName;
  /** ms between two commits of the offsets mirrored to the Kafka group (mirror.ts); 0: after every batch */
  mirrorIntervalMs?: number;
}

/**
 * The commit strategies (strategies.ts): `plain`, each batch alone; `fold-begin`, each batch
 * alone, BEGIN and its offset's compare-and-set in one round trip (fold-begin.ts); `coalesce`,
 * the batches of several partitions that arrive together in one transaction, else fold-begin
 * (coalesce.ts). The latter two are for latency-bound consumers (the scores consumer).
 */
export type CommitStrategyName = 'plain' | 'fold-begin' | 'coalesce';

export interface BatchConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  progress(): PartitionProgress[];
  assignedPartitions(): number[];
  /** resolves once the group assigned this member its partitions (after start) */
  joined(): Promise<number[]>;
  /** batch:fetched, batch:applied, batch:committed, fenced, dead-lettered, joined, crash */
  readonly events: ConsumerEvents;
}

export type Item<T> = { message: KafkaMessage; value: T };
export type Poison = { message: KafkaMessage; reason: string };
