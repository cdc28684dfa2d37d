import { Pool } from 'pg';
import { listen, Listener } from '../db/listener';
import { errorMessage } from '../errors';
import { createKafka } from '../kafka/client';
import { partitionFor } from '../kafka/murmur2';
import { Message, Producer } from '../kafka/port';
import { createProducer, partitionCount } from '../kafka/producer';
import { Logger } from '../log';
import { Alarm, Backoff, outageNotice, sleep } from '../resilience';
import { drainOutbox, newestMark, OutboxKey } from './drain';
import { Outbox } from './outbox';

/**
 * A relay: moves an outbox's marks to their topics, one drain at a time (drain.ts: the marks
 * taken in one short transaction, sent with no transaction open, deleted by id only once the
 * broker acknowledged).
 *
 * Coalescing: a key marked many times while it waits is sent once, and each send costs a
 * recount, so the relay does not drain at the first mark: it drains once no new mark arrived for
 * `quietMs`, or once the oldest waiting mark is `maxDelayMs` old, whichever comes first. It
 * sleeps on LISTEN between bursts, with a poll as a safety net.
 */
export interface OutboxRelay {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** drain at once, without waiting for more marks (`ingest` says so once the rows are applied) */
  drainNow(): void;
  /** keys sent so far */
  relayed(): number;
}

export interface RelayTiming {
  /** keys per page of the drain's cursor */
  page: number;
  pollMs: number;
  quietMs: number;
  maxDelayMs: number;
}

/** bytes of keys per partition in one send */
const SEND_BYTES_PER_PARTITION = 512 * 1024;

export function createOutboxRelay(options: {
  outbox: Outbox;
  brokers: string[];
  databaseUrl: string;
  pool: Pool;
  logger: Logger;
  timing: RelayTiming;
  /** test hook: runs after the sends were acknowledged, before the marks are deleted */
  afterSend?: (sent: number) => Promise<void>;
}): OutboxRelay {
  const { outbox, pool, timing } = options;
  const log = options.logger.namespace(outbox.name);
  const maxDelayMs = Math.max(timing.quietMs, timing.maxDelayMs);
  // persistent: a broker restart is waited for (said once by the client), inside the drain (no
  // transaction is open meanwhile: drain.ts)
  const kafka = createKafka({ brokers: options.brokers, clientId: `dasy-${outbox.name}`, logger: log, persistent: true });
  const producer = createProducer(kafka);
  const notice = outageNotice(log, '', 0, 0, { down: (reason) => `cannot relay (${reason}); retrying with backoff`, up: 'relaying again' });
  const marks = new Alarm(); // a new mark committed (LISTEN), or drainNow()
  const quiet = new Alarm(); // drainNow() while letting marks coalesce
  const partitions = new Map<string, number>(); // known once connected and the topics' metadata was read
  let connected = false;
  let running = false;
  let urgent = false;
  let loop: Promise<void> | undefined;
  let listener: Listener | undefined;
  let relayed = 0;

  /** Wait until marks are due to be drained: none arrived for quietMs, or the oldest is maxDelayMs old. */
  async function untilDue(): Promise<boolean> {
    let waitingSince: number | undefined;
    let lastNewest: string | null = null;
    while (running) {
      const newest = await newestMark(pool, outbox);
      if (newest === null) {
        waitingSince = undefined;
        await marks.sleep(timing.pollMs);
        continue;
      }
      const now = Date.now();
      waitingSince ??= now;
      if (urgent || newest === lastNewest || now >= waitingSince + maxDelayMs) return true;
      // marks are still arriving: let them coalesce a little longer
      lastNewest = newest;
      await quiet.sleep(Math.min(timing.quietMs, waitingSince + maxDelayMs - now));
    }
    return false;
  }

  async function connect() {
    if (connected) return;
    // here rather than in start(): a broker that is down is retried like any other outage
    await producer.connect();
    connected = true;
    // without them, kafkajs's partitioner picks the same partitions, only slower
    for (const topic of outbox.topics) {
      const n = await partitionCount(kafka, topic).catch((err) => void log.debug(`cannot read the partition count of ${topic}`, { err: errorMessage(err) }));
      if (n) partitions.set(topic, n);
    }
  }

  async function run() {
    const backoff = new Backoff();
    while (running) {
      try {
        await connect();
        listener ??= listen({
          databaseUrl: options.databaseUrl,
          channel: outbox.channel,
          applicationName: `dasy-${outbox.name}-listen`,
          logger: log,
          onNotification: (payload) => payload === outbox.scope && marks.wake(),
        });
        if (!(await untilDue())) break;
        urgent = false; // before the drain's snapshot: a later drainNow() gets a drain of its own
        relayed += await drainOutbox(pool, outbox, { page: timing.page, sender: keySender(producer, outbox, partitions), afterSend: options.afterSend });
        notice.ok();
        backoff.reset();
      } catch (err) {
        if (!running) break;
        notice.failed(errorMessage(err));
        await sleep(backoff.next());
      }
    }
  }

  return {
    async start() {
      running = true;
      loop = run();
    },
    drainNow() {
      urgent = true;
      quiet.wake();
      marks.wake();
    },
    async stop() {
      running = false;
      quiet.wake();
      marks.wake();
      await loop;
      await listener?.stop();
      await producer.disconnect().catch(() => undefined);
    },
    relayed: () => relayed,
  };
}

/** A recount request has nothing to say beyond its key (README: Messages on the topics). */
const NO_VALUE = Buffer.alloc(0);

/**
 * Sends as large as the broker takes (a partition's record batch stays well under its
 * message.max.bytes): large batches to recount. One send in flight while the next page is read.
 */
function keySender(producer: Producer, outbox: Outbox, partitions: Map<string, number>) {
  const budget = SEND_BYTES_PER_PARTITION * Math.max(1, ...partitions.values());
  let batch = new Map<string, Message[]>();
  let bytes = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  const dispatch = async () => {
    await inFlight; // one at a time: a failure is seen before anything more is sent
    if (!batch.size) return;
    const topicMessages = [...batch].map(([topic, messages]) => ({ topic, messages }));
    batch = new Map();
    bytes = 0;
    const sending = producer.sendBatch({ topicMessages, acks: -1 });
    sending.catch(() => undefined); // awaited by the next dispatch or by flush
    inFlight = sending;
  };
  return {
    async add(keys: OutboxKey[]) {
      for (const { key, route } of keys) {
        // each key's UTF-8 bytes once, for its partition and for the request (copied, not encoded again)
        const bytesOfKey = Buffer.from(key, 'utf8');
        const size = bytesOfKey.length + 16;
        if (bytes + size > budget) await dispatch();
        const topic = outbox.topicOf(route);
        const n = partitions.get(topic);
        // explicit partitions: the same as kafkajs's murmur2 of the key, without its 64-bit emulation
        const message = { key: bytesOfKey, value: NO_VALUE, partition: n ? partitionFor(bytesOfKey, n) : undefined };
        const messages = batch.get(topic);
        if (messages) messages.push(message);
        else batch.set(topic, [message]);
        bytes += size;
      }
    },
    async flush() {
      await dispatch();
      await inFlight;
    },
  };
}
