import { storedOffsets } from '../db/offsets';
import { classify } from '../errors/classify';
import { DasyError, errorMessage } from '../errors';
import { kafkaOutage } from '../kafka/client';
import { Admin, Consumer } from '../kafka/port';
import { deadLetterTopic } from '../kafka/topics';
import { outageNotice } from '../resilience/outage';
import { Backoff, sleep } from '../resilience/backoff';
import { ConsumerContext } from './context';
import { DeadLetters } from './dead-letters';
import { ConsumerEvents } from './events';
import { mirrorOffsets } from './mirror';
import { Restarter } from './restart';
import { Runs } from './runs';
import { LogStarts, StartGate } from './start-gate';
import { batchHandler } from './runner';
import { createCommitStrategy } from './strategies';
import { BatchConsumer, BatchConsumerOptions, PartitionProgress } from './types';

export type { BatchApp, BatchConsumer, BatchConsumerOptions, BatchInfo, CommitStrategyName, DeadLetter, PartitionProgress } from './types';
export { ConsumerEvents } from './events';
export type { ConsumerEventMap } from './events';
export { DEAD_LETTER_HEADERS } from './dead-letters';
export { STOPPED } from './runner';

/**
 * The one consumer base of dasy (ARCHITECTURE.md). An app supplies how to decode a message and
 * how to apply a batch inside a transaction; the base does the rest: batches per partition,
 * offsets compare-and-set in the batch's transaction (the commit strategy the options name:
 * commit-strategy.ts, libs/db/offsets.ts), dead letters (dead-letters.ts), retries while Kafka or
 * PostgreSQL are down (runner.ts), restarts after a crash (restart.ts), a graceful stop, and
 * events for observers (events.ts).
 */
export function createBatchConsumer<T>(options: BatchConsumerOptions<T>): BatchConsumer {
  const { kafka, pool, groupId, topic } = options;
  if (!groupId || !topic) throw new DasyError('createBatchConsumer: groupId and topic are required');
  const log = options.logger.namespace(`consumer:${topic}`);
  const events = new ConsumerEvents();
  const consumer = kafkaConsumer(options);
  let state: 'idle' | 'running' | 'stopping' = 'idle';
  let assigned: number[] = [];
  let joinedOnce: number[] | undefined; // since start()
  const progress = new Map<number, PartitionProgress>();
  const starts = new StartGate();
  const logStarts = new LogStarts(() => (admin ??= kafka.admin()), topic);
  let admin: Admin | undefined;

  const ctx: ConsumerContext<T> = {
    options,
    kafka,
    log,
    events,
    deadLetters: new DeadLetters({ kafka, topic, dlq: deadLetterTopic(topic), log, events }),
    postgres: outageNotice(log, 'PostgreSQL'),
    key: (partition) => ({ group: groupId, topic, partition }),
    logStart: (partition) => logStarts.get(partition),
    stopping: () => state !== 'running',
  };
  const restarter = new Restarter({ start: connectAndRun, active: () => state === 'running', log });
  const seek = async (partition: number, stored: bigint | null) => (stored === null ? seekToStored([partition]) : seekTo(partition, stored));
  const runs = new Runs();
  const eachBatch = batchHandler(ctx, { strategy: createCommitStrategy(options.commit ?? 'plain', ctx), seek, progress, runs });
  const mirror = mirrorOffsets(ctx, consumer); // for monitoring only (mirror.ts)

  consumer.on('group:join', (assignment) => {
    assigned = [...(assignment[topic] ?? [])].sort((a, b) => a - b);
    joinedOnce = assigned;
    for (const p of [...progress.keys()]) if (!assigned.includes(p)) progress.delete(p);
    runs.clear();
    events.emit('joined', assigned);
    // Start where PostgreSQL says, not where Kafka's group offsets say. If a fetch wins this
    // race, the offset compare-and-set catches it and seeks then.
    seekToStored(assigned).catch((err) => log.debug('seek after join failed; the fence will correct it', { err: errorMessage(err) }));
  });
  // the client moved over a fetch that held nothing for eachBatch (runs.ts)
  consumer.on('fetch:empty', (fetch) => {
    if (fetch.topic === topic) runs.emptyFetch(fetch);
  });
  consumer.on('crash', (error) => {
    if (state !== 'running') return; // what stop() ends on purpose
    // A broker that is down or restarting: one notice per outage (the client's), not one per crash.
    if (classify(error) === 'kafka-unavailable') kafkaOutage(kafka)?.failed(errorMessage(error));
    else log.warn('consumer stopped on an error; restarting it with backoff', { error: errorMessage(error) });
    events.emit('crash', error, true);
    restarter.crashed();
  });

  function connectAndRun(): Promise<void> {
    return starts.track(async () => {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 3,
        eachBatch,
      });
    });
  }

  async function seekToStored(partitions: number[]) {
    if (!partitions.length) return;
    const stored = await storedOffsets(pool, groupId, topic);
    for (const p of partitions) {
      const offset = stored.get(p);
      if (offset !== undefined) seekTo(p, offset);
    }
  }

  function seekTo(partition: number, offset: bigint) {
    runs.at(partition, offset);
    consumer.seek(topic, partition, offset);
  }

  return {
    events,
    async start() {
      if (state !== 'idle') return;
      state = 'running';
      await startUntilRunning();
    },
    async stop() {
      if (state !== 'running') return;
      state = 'stopping';
      await starts.settled(); // a consumer being started is disconnected once it is up, not before
      await mirror.flush(); // while still a member of the group
      await consumer.disconnect().catch(() => undefined); // waits for the batch in flight
      mirror.clear();
      await ctx.deadLetters.close();
      await admin?.disconnect().catch(() => undefined);
      admin = undefined;
      joinedOnce = undefined;
      state = 'idle';
    },
    progress: () => [...progress.values()].sort((a, b) => a.partition - b.partition),
    assignedPartitions: () => assigned,
    joined: () => (joinedOnce ? Promise.resolve(joinedOnce) : new Promise((resolve) => events.once('joined', resolve))),
  };

  /** A broker that is not reachable yet is waited for (said once by the client), until stopped. */
  async function startUntilRunning() {
    const backoff = new Backoff({ initialMs: 500 });
    for (;;) {
      try {
        return await connectAndRun();
      } catch (err) {
        if (state !== 'running') return; // stopped while waiting
        if (classify(err) !== 'kafka-unavailable') throw err;
        kafkaOutage(kafka)?.failed(errorMessage(err));
        await sleep(backoff.next());
      }
    }
  }
}

function kafkaConsumer<T>(options: BatchConsumerOptions<T>): Consumer {
  return options.kafka.consumer({
    groupId: options.groupId,
    // Rebalances must be quick: a member notices one at its next heartbeat. Every 100 ms: when the
    // consumers of an ingest join one after another, the first rejoins at once (500 ms cost an
    // ingest 0.4 s), for ten small requests a second.
    sessionTimeout: options.sessionTimeout ?? 10000,
    rebalanceTimeout: options.sessionTimeout ?? 10000,
    heartbeatInterval: 100,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 200,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 2 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    // Restarts after a crash are ours alone (restart.ts).
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 10 },
    restartOnFailure: false,
  });
}
