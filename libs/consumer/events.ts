import { EventEmitter } from 'events';
import { BatchInfo } from './batch';

/**
 * What a consumer tells its observers (metrics, tests): a typed emitter. Listeners run
 * synchronously in the consumer's flow, so they must be quick and must not throw.
 */
export type ConsumerEventMap = {
  /** a batch arrived, before its transaction */
  'batch:fetched': [info: BatchInfo, messages: number];
  /** the app applied the batch, inside its transaction, before the commit */
  'batch:applied': [info: BatchInfo, items: number];
  /** the transaction (effects and offsets) committed */
  'batch:committed': [info: BatchInfo, detail: { records: number; deadLetters: number; seconds: number }];
  /** the batch's range was not the stored position: rolled back, seeking to `stored` */
  fenced: [info: BatchInfo, stored: bigint | null];
  /** messages went to the dead-letter topic */
  'dead-lettered': [topic: string, count: number, reason: string];
  /** the group (re)assigned this member its partitions */
  joined: [partitions: number[]];
  /** the kafkajs consumer stopped on an error; `restarting` says whether we start it again */
  crash: [error: unknown, restarting: boolean];
};

export class ConsumerEvents extends EventEmitter<ConsumerEventMap> {}
