import { Producer } from '../../libs/kafka/port';
import { Pool } from 'pg';
import { DasyConfig } from '../../libs/config';
import { listen, Listener } from '../../libs/db/listener';
import { errorMessage } from '../../libs/errors';
import { createKafka } from '../../libs/kafka/client';
import { partitionFor } from '../../libs/kafka/murmur2';
import { createProducer, partitionCount } from '../../libs/kafka/producer';
import { topicName } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { Alarm, Backoff, outageNotice, sleep } from '../../libs/resilience';
import { OUTBOX_CHANNEL } from '../products-consumer';
import { drainOutbox, newestMark } from './drain';

export { waitingNames } from './drain';
export { RELAY_DEFAULTS } from './defaults';
import { RELAY_DEFAULTS } from './defaults';

/**
 * ProductCountRelay: moves outbox marks to `<ns>.product-count` (key = name), one drain at a time
 * (drain.ts: the marks taken in one short transaction, sent with no transaction open, deleted by id
 * only once the broker acknowledged).
 *
 * Coalescing: a name marked many times while it waits is sent once, and each send costs a
 * recount, so the relay does not drain at the first mark: it drains once no new mark arrived for
 * `quietMs`, or once the oldest waiting mark is `maxDelayMs` old, whichever comes first. It
 * sleeps on LISTEN between bursts, with a poll as a safety net.
 */
export interface ProductCountRelay {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** drain at once, without waiting for more marks (`ingest` says so once the products are applied) */
  drainNow(): void;
  /** names sent so far */
  relayed(): number;
}

/** bytes of names per partition in one send */
const SEND_BYTES_PER_PARTITION = 512 * 1024;

export function createProductCountRelay(options: {
  config: DasyConfig;
  pool: Pool;
  logger: Logger;
  /** names per page of the drain's cursor */
  page?: number;
  pollMs?: number;
  quietMs?: number;
  maxDelayMs?: number;
  /** test hook: runs after the sends were acknowledged, before the marks are deleted */
  afterSend?: (sent: number) => Promise<void>;
}): ProductCountRelay {
  const { config, pool } = options;
  const log = options.logger.namespace('product-count-producer');
  const quietMs = options.quietMs ?? RELAY_DEFAULTS.quietMs;
  const maxDelayMs = Math.max(quietMs, options.maxDelayMs ?? RELAY_DEFAULTS.maxDelayMs);
  const topic = topicName(config.namespace, 'productCount');
  // persistent: a broker restart is waited for (said once by the client), inside the drain (no
  // transaction is open meanwhile: drain.ts)
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-product-count-producer', logger: log, persistent: true });
  const producer = createProducer(kafka);
  const notice = outageNotice(log, '', 0, 0, { down: (reason) => `cannot relay (${reason}); retrying with backoff`, up: 'relaying again' });
  const marks = new Alarm(); // a new mark committed (LISTEN), or drainNow()
  const quiet = new Alarm(); // drainNow() while letting marks coalesce
  let partitions: number | undefined; // known once connected and the topic's metadata was read
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
      const newest = await newestMark(pool, config.namespace);
      if (newest === null) {
        waitingSince = undefined;
        await marks.sleep(options.pollMs ?? RELAY_DEFAULTS.pollMs);
        continue;
      }
      const now = Date.now();
      waitingSince ??= now;
      if (urgent || newest === lastNewest || now >= waitingSince + maxDelayMs) return true;
      // marks are still arriving: let them coalesce a little longer
      lastNewest = newest;
      await quiet.sleep(Math.min(quietMs, waitingSince + maxDelayMs - now));
    }
    return false;
  }

  async function connect() {
    if (connected) return;
    // here rather than in start(): a broker that is down is retried like any other outage
    await producer.connect();
    connected = true;
    // without it, kafkajs's partitioner picks the same partitions, only slower
    partitions = await partitionCount(kafka, topic).catch((err) => void log.debug(`cannot read the partition count of ${topic}`, { err: errorMessage(err) }));
  }

  async function run() {
    const backoff = new Backoff();
    while (running) {
      try {
        await connect();
        listener ??= listen({
          databaseUrl: config.databaseUrl,
          channel: OUTBOX_CHANNEL,
          applicationName: 'dasy-product-count-producer-listen',
          logger: log,
          onNotification: (payload) => payload === config.namespace && marks.wake(),
        });
        if (!(await untilDue())) break;
        urgent = false; // before the drain's snapshot: a later drainNow() gets a drain of its own
        relayed += await drainOutbox(pool, config.namespace, { page: options.page ?? RELAY_DEFAULTS.page, sender: nameSender(), afterSend: options.afterSend });
        notice.ok();
        backoff.reset();
      } catch (err) {
        if (!running) break;
        notice.failed(errorMessage(err));
        await sleep(backoff.next());
      }
    }
  }

  /**
   * Sends as large as the broker takes (a partition's record batch stays well under its
   * message.max.bytes): large batches to recount. One send in flight while the next page is read.
   */
  function nameSender() {
    const budget = SEND_BYTES_PER_PARTITION * (partitions ?? 1);
    let batch: string[] = [];
    let bytes = 0;
    let inFlight: Promise<void> = Promise.resolve();
    const dispatch = async () => {
      await inFlight; // one at a time: a failure is seen before anything more is sent
      if (!batch.length) return;
      const names = batch;
      batch = [];
      bytes = 0;
      // explicit partitions: the same as kafkajs's murmur2 of the key, without its 64-bit emulation
      const sending = send(producer, topic, names, partitions);
      sending.catch(() => undefined); // awaited by the next dispatch or by flush
      inFlight = sending;
    };
    return {
      async add(names: string[]) {
        for (const name of names) {
          const size = Buffer.byteLength(name) + 16;
          if (bytes + size > budget) await dispatch();
          batch.push(name);
          bytes += size;
        }
      },
      async flush() {
        await dispatch();
        await inFlight;
      },
    };
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

async function send(producer: Producer, topic: string, names: string[], partitions: number | undefined) {
  await producer.send({
    topic,
    acks: -1,
    // each name's UTF-8 bytes once, for its partition and for the request (copied, not encoded again)
    messages: names.map((name) => {
      const key = Buffer.from(name, 'utf8');
      return { key, value: NO_VALUE, partition: partitions ? partitionFor(key, partitions) : undefined };
    }),
  });
}
