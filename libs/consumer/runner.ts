import { StoredOffsetMismatch } from '../db/offsets';
import { classify, Failure } from '../errors/classify';
import { errorMessage, PoisonMessageError, StoppedError } from '../errors';
import { kafkaOutage } from '../kafka/client';
import { EachBatchPayload, KafkaMessage } from '../kafka/port';
import { Backoff } from '../resilience/backoff';
import { ABANDONED, CommitStrategy, PendingBatch } from './commit-strategy';
import { Runs } from './runs';
import { ConsumerContext } from './context';
import { BatchLetters } from './dead-letters';
import { BatchApp, BatchInfo, DeadLetter, Item, PartitionProgress, Poison } from './types';

/** What a batch handed over after stop() throws: it ends that client runner. */
export const STOPPED = 'dasy: consumer stopped; batch abandoned';

export interface RunnerDeps<T> {
  /** how a batch is committed (strategies.ts) */
  strategy: CommitStrategy<T>;
  /** go where PostgreSQL says the partition stands (null: read it) */
  seek(partition: number, stored: bigint | null): Promise<void>;
  progress: Map<number, PartitionProgress>;
  /** where each partition's batches begin (compaction leaves offsets without records) */
  runs: Runs;
}

/**
 * The client's eachBatch for one consumer: decode, then commit (one attempt of the consumer's
 * strategy per turn: commit-strategy.ts) until it succeeds, the batch is fenced, or the consumer
 * stops or loses the partition (abandoned: nothing was committed). Outages are retried with
 * backoff while heartbeating, said once (libs/resilience/outage.ts).
 */
export function batchHandler<T>(ctx: ConsumerContext<T>, deps: RunnerDeps<T>) {
  return async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    // A batch after stop() (a client runner that outlived its consumer): returning would have it
    // fetched again at once, in a loop; this error ends that runner instead.
    if (ctx.stopping()) throw new StoppedError(STOPPED);
    if (!batch.messages.length) return;
    const info: BatchInfo = {
      topic: ctx.options.topic,
      partition: batch.partition,
      firstOffset: deps.runs.start(batch),
      nextOffset: batch.lastOffset + 1n,
      highWatermark: batch.highWatermark,
    };
    ctx.events.emit('batch:fetched', info, batch.messages.length);
    const started = process.hrtime.bigint();
    const { items, poison } = decodeAll(ctx.options.app, batch.messages, info.partition);
    const live = () => payload.isRunning() && !payload.isStale() && !ctx.stopping();
    const pending: PendingBatch<T> = { items, poison, info, letters: new BatchLetters(), live };
    const backoff = new Backoff();
    let deadLetters: DeadLetter[];
    for (let attempt = 0; ; attempt++) {
      if (!live()) return; // abandon: nothing was committed
      try {
        const committed = await deps.strategy.commit(pending, attempt);
        if (committed === ABANDONED) return;
        deadLetters = committed;
        break;
      } catch (err) {
        const failure = classify(err);
        if (failure === 'fenced') return fenced(err as StoredOffsetMismatch, info);
        if (failure === 'stopped') return;
        if (attempt === 0) report(ctx, failure, err, info);
        await sleepWithHeartbeat(backoff.next(), () => payload.heartbeat(), live);
      }
    }
    // Committed: what follows is not part of the commit, and a throw here must not retry it.
    ctx.postgres.ok();
    payload.resolveOffset(batch.lastOffset);
    deps.runs.at(info.partition, info.nextOffset);
    deps.progress.set(info.partition, progressOf(info));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    ctx.events.emit('batch:committed', info, { records: items.length, deadLetters: deadLetters.length, seconds });
    afterCommit(ctx, values(items), info, deadLetters);
  };

  /** Not our range (a zombie, or we started from Kafka's position): go where PostgreSQL says. */
  async function fenced(err: StoredOffsetMismatch, info: BatchInfo) {
    ctx.log.debug(err.message);
    ctx.events.emit('fenced', info, err.stored);
    await deps.seek(info.partition, err.stored);
  }
}

/** The app's hook after a commit: a throw is the hook's defect, logged; the batch stays committed and the partition goes on. */
function afterCommit<T>(ctx: ConsumerContext<T>, items: T[], info: BatchInfo, deadLetters: DeadLetter[]) {
  try {
    ctx.options.app.afterCommit?.(items, info, deadLetters);
  } catch (err) {
    ctx.log.error(`after committing ${info.topic}[${info.partition}]@${info.firstOffset}: ${errorMessage(err)}`);
  }
}

/** Said once per batch that cannot be committed; outages once per outage. */
function report<T>(ctx: ConsumerContext<T>, failure: Failure, err: unknown, info: BatchInfo) {
  const message = errorMessage(err);
  if (failure === 'kafka-unavailable') kafkaOutage(ctx.kafka)?.failed(message);
  else if (failure === 'postgresql-unavailable') ctx.postgres.failed(message);
  else {
    ctx.log.error(`cannot apply batch ${info.topic}[${info.partition}]@${info.firstOffset}: ${message}; retrying with backoff`, {
      hint: failure === 'schema' ? 'run `make create-migrations`' : undefined,
    });
  }
}

function decodeAll<T>(app: BatchApp<T>, messages: KafkaMessage[], partition: number): { items: Item<T>[]; poison: Poison[] } {
  const items: Item<T>[] = [];
  const poison: Poison[] = [];
  for (const message of messages) {
    try {
      items.push({ message, value: app.decode(message, partition) });
    } catch (err) {
      if (!(err instanceof PoisonMessageError)) throw err;
      poison.push({ message, reason: err.message });
    }
  }
  return { items, poison };
}

const values = <T>(items: Item<T>[]) => items.map((i) => i.value);

function progressOf(info: BatchInfo): PartitionProgress {
  const lag = info.highWatermark > info.nextOffset ? info.highWatermark - info.nextOffset : 0n;
  return { topic: info.topic, partition: info.partition, offset: info.nextOffset, highWatermark: info.highWatermark, lag };
}

async function sleepWithHeartbeat(ms: number, heartbeat: () => Promise<void>, live: () => boolean) {
  const until = Date.now() + ms;
  while (Date.now() < until && live()) {
    await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
    await heartbeat().catch(() => undefined);
  }
}
