import { PartitionKey } from '../db/offsets';
import { Kafka } from '../kafka/port';
import { Logger } from '../log';
import { OutageNotice } from '../resilience/outage';
import { DeadLetters } from './dead-letters';
import { ConsumerEvents } from './events';
import { BatchConsumerOptions } from './types';

/** What a commit strategy uses of its consumer (commit-strategy.ts): so little that a unit test fakes it. */
export interface CommitContext<T> {
  readonly options: Pick<BatchConsumerOptions<T>, 'pool' | 'app' | 'groupId' | 'topic'>;
  readonly log: Logger;
  readonly events: ConsumerEvents;
  readonly deadLetters: Pick<DeadLetters, 'send' | 'record'>;
  key(partition: number): PartitionKey;
  /** where a partition without a stored offset begins (its low watermark, cached) */
  logStart(partition: number): Promise<bigint>;
}

/** What the parts of one consumer share (built once by the facade, index.ts). */
export interface ConsumerContext<T> extends CommitContext<T> {
  readonly options: BatchConsumerOptions<T>;
  readonly kafka: Kafka;
  readonly deadLetters: DeadLetters;
  /** said once per PostgreSQL outage, and its end */
  readonly postgres: OutageNotice;
  /** stop() was called: abandon what is in flight, commit nothing more */
  stopping(): boolean;
}
