import { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer, IHeaders } from 'kafkajs';
import { Pool, PoolClient } from 'pg';
import { isDataError, isRetriableDbError, withTransaction } from '../db';
import { advanceOffset, StoredOffsetMismatch, storedOffsets } from '../db/offsets';
import { DasyError, errorMessage, PoisonMessageError } from '../errors';
import { Logger } from '../log';
import { isRetriableKafkaError, kafkaOutage } from './client';
import { deadLetterTopic } from './topics';

/**
 * The one consumer base of dasy. An app supplies only how to decode a message and how to apply a
 * batch of decoded messages inside a transaction; the base does the rest:
 * - batches per partition (kafkajs eachBatch), several partitions concurrently;
 * - the batch's offsets advance in the same PostgreSQL transaction as its effects, by
 *   compare-and-set from the batch's first offset (the zombie fence); on a mismatch it rolls back
 *   and seeks to the stored offset, which is also how it resumes after start or rebalance;
 * - messages that can never be applied go to `<topic>.dlq` with the reason, before the commit that
 *   skips them, so the partition keeps flowing;
 * - PostgreSQL outages are retried with backoff (said once, not per attempt), heartbeating;
 * - Kafka outages too: a consumer kafkajs gives up on (it stops for good after some errors, such
 *   as no group coordinator while the broker restarts) is started again here, with backoff;
 * - stop() finishes or abandons the batch in flight; nothing half-done is committed.
 */
export interface BatchApp<T> {
  /** Turn a message into the app's item; throw PoisonMessageError when it can never be applied. */
  decode(message: KafkaMessage, partition: number): T;
  /** Apply items (in offset order) inside the batch's transaction. */
  apply(client: PoolClient, items: T[], batch: BatchInfo): Promise<void>;
  /**
   * Optional, for coalescePartitions: apply the batches of several partitions (each in offset
   * order) inside one transaction, e.g. in one statement. Without it they are applied in turn.
   */
  applyMany?(client: PoolClient, batches: { items: T[]; batch: BatchInfo }[]): Promise<void>;
  /** After the transaction committed (e.g. to wake readers in this process). */
  afterCommit?(items: T[], batch: BatchInfo): void;
}

export interface BatchInfo {
  topic: string;
  partition: number;
  firstOffset: bigint;
  /** offset after the batch's last message: the stored offset once committed */
  nextOffset: bigint;
  highWatermark: bigint;
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
  partitionsConsumedConcurrently?: number;
  /** how long an idle fetch waits at the broker: bounds the latency of a new message */
  maxWaitTimeInMs?: number;
  /** called with this member's partitions after every group join (rebalance) */
  onAssigned?: (partitions: number[]) => void;
  /** group session timeout (the broker's minimum is 6 s): how long a silent member keeps its partitions */
  sessionTimeout?: number;
  /**
   * Begin each batch's transaction and move its offset in one round trip (one simple-protocol
   * query: BEGIN, SET LOCAL, the offset compare-and-set with literal values) instead of two.
   * Same fence: when the compare-and-set matches no row, the usual path (advanceOffset) decides.
   * For latency-bound consumers, whose transactions are a few round trips each. Default off.
   */
  foldBegin?: boolean;
  /**
   * Apply the batches of several partitions that arrive together (one fetch) in one transaction:
   * their offsets move in one compare-and-set statement, each batch is applied in turn, one commit.
   * Any failure (a fence mismatch, a data error, an outage) rolls it back and each batch then takes
   * the usual path on its own, so the guarantees are those of the usual path. Batches with dead
   * letters, and consumers with the test hooks, always take the usual path. Default off.
   */
  coalescePartitions?: boolean;
  /** test hook: called after a batch was fetched, before its transaction starts */
  beforeTransaction?: (batch: BatchInfo) => Promise<void>;
  /** test hook: called inside the transaction after apply, before commit */
  beforeCommit?: (batch: BatchInfo) => Promise<void>;
}

export interface BatchConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  progress(): PartitionProgress[];
  assignedPartitions(): number[];
  /** resolves once the group assigned this member its partitions (after start) */
  joined(): Promise<number[]>;
}

type Item<T> = { message: KafkaMessage; value: T };
type Poison = { message: KafkaMessage; reason: string };

/** What a batch handed over after stop() throws (libs/kafka/client.ts keeps it out of the logs). */
export const STOPPED = 'dasy: consumer stopped; batch abandoned';

export function createBatchConsumer<T>(options: BatchConsumerOptions<T>): BatchConsumer {
  const { kafka, pool, groupId, topic, app } = options;
  if (!groupId || !topic) throw new DasyError('createBatchConsumer: groupId and topic are required');
  const log = options.logger.namespace(`consumer:${topic}`);
  const concurrency = options.partitionsConsumedConcurrently ?? 3;
  const dlq = deadLetterTopic(topic);

  const consumer: Consumer = kafka.consumer({
    groupId,
    // Rebalances must be quick: an idle member notices one at its next heartbeat.
    sessionTimeout: options.sessionTimeout ?? 10000,
    rebalanceTimeout: options.sessionTimeout ?? 10000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 200,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 2 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    // Restarts after a crash are ours alone (restartAfterCrash): kafkajs's own can race with a
    // stop() and leave a runner consuming after its consumer was disconnected.
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 10, restartOnFailure: async () => false },
  });
  let producer: Producer | undefined;
  let admin: Admin | undefined;
  const progress = new Map<number, PartitionProgress>();
  let assigned: number[] = [];
  let running = false;
  let stopping = false;
  let joinedResolve: (p: number[]) => void = () => undefined;
  let joinedPromise = new Promise<number[]>((r) => (joinedResolve = r));
  let dbDown = false;

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    assigned = [...(event.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    for (const p of [...progress.keys()]) if (!assigned.includes(p)) progress.delete(p);
    joinedResolve(assigned);
    options.onAssigned?.(assigned);
    // Start where PostgreSQL says, not where Kafka's group offsets say. If a fetch wins this
    // race, the offset compare-and-set catches it and seeks then.
    void seekToStored(assigned).catch((err) => log.debug('seek after join failed; the fence will correct it', { err: errorMessage(err) }));
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (stopping) return; // what stop() ends on purpose
    const error = event.payload.error;
    // A broker that is down or restarting: one notice per outage (the client's), not one per crash.
    if (isRetriableKafkaError(error) && kafkaOutage(kafka)) kafkaOutage(kafka)!.failed(errorMessage(error));
    else
      log.warn(`consumer stopped on an error; ${event.payload.restart ? 'kafkajs restarts it' : 'restarting it with backoff'}`, { error: errorMessage(error) });
    // kafkajs is told never to restart a crashed consumer (restartOnFailure above): it would
    // stay stopped, and the process idle (or exit) without consuming. Start it again ourselves.
    if (!event.payload.restart) void restartAfterCrash();
  });

  let restarting = false;
  // a crash while a restart is under way (the new runner crashed before connectAndRun returned):
  // restart once more when that one ends, or the consumer stays stopped and the process idles out
  let crashedWhileRestarting = false;
  async function restartAfterCrash() {
    if (!running || stopping) return;
    if (restarting) {
      crashedWhileRestarting = true;
      return;
    }
    restarting = true;
    let delay = 500;
    try {
      while (running && !stopping) {
        await new Promise((r) => setTimeout(r, delay));
        if (!running || stopping) return;
        // only a crash of the runner this attempt starts calls for another restart
        crashedWhileRestarting = false;
        try {
          await connectAndRun();
          return;
        } catch (err) {
          log.debug('restarting the consumer failed; retrying', { err: errorMessage(err) });
          delay = Math.min(delay * 2, 5000);
        }
      }
    } finally {
      restarting = false;
      if (crashedWhileRestarting && running && !stopping) void restartAfterCrash();
    }
  }

  /** The start in progress: stop() waits for it, so no consumer starts after it disconnected. */
  let starting: Promise<unknown> = Promise.resolve();
  function connectAndRun(): Promise<void> {
    const attempt = (async () => {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false, // offsets live in PostgreSQL, committed with the data
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: concurrency,
        eachBatch,
      });
    })();
    starting = attempt.catch(() => undefined);
    return attempt;
  }

  async function seekToStored(partitions: number[]) {
    if (!partitions.length) return;
    const stored = await storedOffsets(pool, groupId, topic);
    for (const p of partitions) {
      const offset = stored.get(p);
      if (offset !== undefined) consumer.seek({ topic, partition: p, offset: offset.toString() });
    }
  }

  const logStartCache = new Map<number, bigint>();
  async function logStart(partition: number): Promise<bigint> {
    const cached = logStartCache.get(partition);
    if (cached !== undefined) return cached;
    admin ??= kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    for (const o of offsets) logStartCache.set(o.partition, BigInt(o.low));
    return logStartCache.get(partition) ?? 0n;
  }

  function decodeAll(messages: KafkaMessage[], partition: number): { items: Item<T>[]; poison: Poison[] } {
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

  async function sendDeadLetters(poison: Poison[], partition: number) {
    if (!poison.length) return;
    if (!producer) {
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
    }
    await producer.send({
      topic: dlq,
      acks: -1,
      messages: poison.map(({ message, reason }) => ({
        key: message.key,
        value: message.value,
        headers: {
          'dasy-reason': reason,
          'dasy-source-topic': topic,
          'dasy-source-partition': String(partition),
          'dasy-source-offset': message.offset,
        } as IHeaders,
      })),
    });
    log.warn(`dead-lettered ${poison.length} message(s) to ${dlq}`, { partition, reasons: [...new Set(poison.map((p) => p.reason))].slice(0, 5) });
  }

  /** One attempt: the whole batch in one transaction, isolating data errors per message. */
  async function commitBatch(items: Item<T>[], poison: Poison[], info: BatchInfo) {
    const key = { group: groupId, topic, partition: info.partition };
    const body = async (client: PoolClient, isolate: boolean, advanced: boolean) => {
      if (!advanced) await advanceOffset(client, key, info.firstOffset, info.nextOffset, () => logStart(info.partition));
      const extraPoison: Poison[] = [];
      if (!isolate) {
        if (items.length)
          await app.apply(
            client,
            items.map((i) => i.value),
            info,
          );
      } else {
        // Find the messages PostgreSQL refuses, one savepoint each; apply the rest.
        for (const item of items) {
          await client.query('SAVEPOINT dasy_item');
          try {
            await app.apply(client, [item.value], info);
            await client.query('RELEASE SAVEPOINT dasy_item');
          } catch (err) {
            if (!isDataError(err)) throw err;
            await client.query('ROLLBACK TO SAVEPOINT dasy_item');
            extraPoison.push({ message: item.message, reason: `rejected by PostgreSQL: ${errorMessage(err)}` });
          }
        }
      }
      // Dead letters are acknowledged before the commit that skips them: a crash in between
      // can duplicate a dead letter, never lose one.
      await sendDeadLetters([...poison, ...extraPoison], info.partition);
      if (options.beforeCommit) await options.beforeCommit(info);
      return extraPoison;
    };
    const run = (isolate: boolean) =>
      options.foldBegin
        ? foldedTransaction(key, info, (client, advanced) => body(client, isolate, advanced))
        : withTransaction(pool, (client) => body(client, isolate, false), { asyncCommit: true });
    try {
      return await run(false);
    } catch (err) {
      if (!isDataError(err)) throw err;
      return run(true);
    }
  }

  /**
   * withTransaction(..., { asyncCommit: true }) whose BEGIN also tries the offset compare-and-set;
   * `advanced` tells fn whether it matched (else fn runs advanceOffset, which decides).
   */
  async function foldedTransaction<R>(
    key: { group: string; topic: string; partition: number },
    info: BatchInfo,
    fn: (client: PoolClient, advanced: boolean) => Promise<R>,
  ): Promise<R> {
    const client = await pool.connect();
    let broken = false;
    try {
      const results = (await client.query(
        'BEGIN; SET LOCAL synchronous_commit TO off; ' +
          `UPDATE dasy_consumer_offsets SET next_offset = ${info.nextOffset.toString()}, updated_at = now() ` +
          `WHERE group_id = ${client.escapeLiteral(key.group)} AND topic = ${client.escapeLiteral(key.topic)} ` +
          `AND partition = ${Number(key.partition)} AND next_offset = ${info.firstOffset.toString()}`,
      )) as unknown as { rowCount: number | null }[];
      const advanced = Array.isArray(results) && results[results.length - 1]?.rowCount === 1;
      const result = await fn(client, advanced);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone; do not return it to the pool
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  type Waiting = { items: T[]; info: BatchInfo; resolve: (done: boolean) => void };
  let waiting: Waiting[] = [];
  let coalesceScheduled = false;

  /** Resolves true once the batch is committed with others; false: apply it on the usual path. */
  function coalesced(items: T[], info: BatchInfo): Promise<boolean> {
    return new Promise((resolve) => {
      waiting.push({ items, info, resolve });
      if (coalesceScheduled) return;
      coalesceScheduled = true;
      setImmediate(() => {
        coalesceScheduled = false;
        const group = waiting;
        waiting = [];
        if (group.length < 2) return group.forEach((w) => w.resolve(false));
        commitTogether(group).then(
          (done) => group.forEach((w) => w.resolve(done)),
          () => group.forEach((w) => w.resolve(false)),
        );
      });
    });
  }

  async function commitTogether(group: Waiting[]): Promise<boolean> {
    group.sort((a, b) => a.info.partition - b.info.partition);
    const client = await pool.connect();
    let broken = false;
    try {
      const rows = group.map((w) => `(${Number(w.info.partition)}, ${w.info.firstOffset.toString()}::bigint, ${w.info.nextOffset.toString()}::bigint)`);
      const results = (await client.query(
        'BEGIN; SET LOCAL synchronous_commit TO off; ' +
          `UPDATE dasy_consumer_offsets o SET next_offset = v.next, updated_at = now() FROM (VALUES ${rows.join(', ')}) AS v(partition, first, next) ` +
          `WHERE o.group_id = ${client.escapeLiteral(groupId)} AND o.topic = ${client.escapeLiteral(topic)} ` +
          `AND o.partition = v.partition AND o.next_offset = v.first`,
      )) as unknown as { rowCount: number | null }[];
      if (!Array.isArray(results) || results[results.length - 1]?.rowCount !== group.length) {
        await client.query('ROLLBACK');
        return false;
      }
      if (app.applyMany)
        await app.applyMany(
          client,
          group.map((w) => ({ items: w.items, batch: w.info })),
        );
      else for (const w of group) if (w.items.length) await app.apply(client, w.items, w.info);
      await client.query('COMMIT');
      return true;
    } catch (err) {
      log.debug('batches of several partitions failed together; applying them one by one', { err: errorMessage(err) });
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      return false;
    } finally {
      client.release(broken);
    }
  }

  async function eachBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) {
    // A batch after stop() (a kafkajs runner that outlived its consumer): returning would have it
    // fetched again at once, in a loop; this error ends that runner instead.
    if (stopping) throw Object.assign(new Error(STOPPED), { retriable: false });
    if (batch.isEmpty()) return;
    const partition = batch.partition;
    const info: BatchInfo = {
      topic,
      partition,
      firstOffset: BigInt(batch.messages[0].offset),
      nextOffset: BigInt(batch.lastOffset()) + 1n,
      highWatermark: BigInt(batch.highWatermark),
    };
    const { items, poison } = decodeAll(batch.messages, partition);
    if (options.beforeTransaction) await options.beforeTransaction(info);
    let together =
      options.coalescePartitions === true &&
      !poison.length &&
      !options.beforeTransaction &&
      !options.beforeCommit &&
      isRunning() &&
      !isStale() &&
      !stopping &&
      (await coalesced(
        items.map((i) => i.value),
        info,
      ));
    let delay = 200;
    let announced = false;
    for (;;) {
      if (!together && (!isRunning() || isStale() || stopping)) return; // abandon: nothing was committed
      try {
        if (!together) await commitBatch(items, poison, info);
        together = false;
        if (dbDown) {
          dbDown = false;
          log.warn('PostgreSQL reachable again; resuming');
        }
        resolveOffset(batch.lastOffset());
        progress.set(partition, {
          topic,
          partition,
          offset: info.nextOffset,
          highWatermark: info.highWatermark,
          lag: info.highWatermark > info.nextOffset ? info.highWatermark - info.nextOffset : 0n,
        });
        app.afterCommit?.(
          items.map((i) => i.value),
          info,
        );
        return;
      } catch (err) {
        if (err instanceof StoredOffsetMismatch) {
          // Not our range (zombie, or we started from Kafka's position): go where PostgreSQL says.
          if (err.stored !== null) consumer.seek({ topic, partition, offset: err.stored.toString() });
          else await seekToStored([partition]);
          log.debug(err.message);
          return;
        }
        if (!announced) {
          announced = true;
          // PostgreSQL's own errors first: pg says "connection error" too, which reads like Kafka's
          if (isRetriableKafkaError(err) && (fromKafkajs(err) || !isRetriableDbError(err))) {
            // a dead letter or the partition's start offset needs the broker: the client's notice
            kafkaOutage(kafka)?.failed(errorMessage(err));
          } else if (isRetriableDbError(err)) {
            if (!dbDown) log.warn(`PostgreSQL unavailable (${errorMessage(err)}); retrying with backoff`);
            dbDown = true;
          } else {
            log.error(`cannot apply batch ${topic}[${partition}]@${info.firstOffset}: ${errorMessage(err)}; retrying with backoff`, {
              hint: /relation .* does not exist/.test(errorMessage(err)) ? 'run `make create-migrations`' : undefined,
            });
          }
        }
        await sleepWithHeartbeat(delay, heartbeat, isRunning);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  async function sleepWithHeartbeat(ms: number, heartbeat: () => Promise<void>, isRunning: () => boolean) {
    const until = Date.now() + ms;
    while (Date.now() < until && isRunning() && !stopping) {
      await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
      await heartbeat().catch(() => undefined);
    }
  }

  return {
    async start() {
      if (running) return;
      running = true;
      stopping = false;
      // A broker that is not reachable yet: wait for it (said once by the client), until stopped.
      let delay = 500;
      for (;;) {
        try {
          await connectAndRun();
          return;
        } catch (err) {
          if (!running || stopping) return; // stopped while waiting
          if (!isRetriableKafkaError(err)) throw err;
          kafkaOutage(kafka)?.failed(errorMessage(err));
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5000);
        }
      }
    },
    async stop() {
      if (!running) return;
      stopping = true;
      running = false;
      await starting; // a consumer being started is disconnected once it is up, not before
      await consumer.disconnect().catch(() => undefined); // waits for the batch in flight
      await producer?.disconnect().catch(() => undefined);
      await admin?.disconnect().catch(() => undefined);
      producer = undefined;
      admin = undefined;
      joinedPromise = new Promise<number[]>((r) => (joinedResolve = r));
    },
    progress: () => [...progress.values()].sort((a, b) => a.partition - b.partition),
    assignedPartitions: () => assigned,
    joined: () => joinedPromise,
  };
}

/** Whether err, or an error it wraps, was raised by kafkajs. */
function fromKafkajs(err: unknown): boolean {
  for (let e = err as { name?: string; cause?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (/^KafkaJS/.test(String(e.name))) return true;
  }
  return false;
}
