import { Partitioners, Producer } from 'kafkajs';
import '../../libs/kafka/kafkajs-check';
import { Client, Pool } from 'pg';
import { DasyConfig } from '../../libs/config';
import { isRetriableDbError, withTransaction } from '../../libs/db';
import { errorMessage } from '../../libs/errors';
import { createKafka } from '../../libs/kafka/client';
import { partitionFor } from '../../libs/kafka/murmur2';
import { topicName } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { sleep } from '../../libs/runtime';
import { OUTBOX_CHANNEL } from '../products-consumer';

/**
 * ProductCountRelay: moves outbox marks to `<ns>.product-count` (key = name).
 *
 * A drain is one transaction in one snapshot: it keeps the distinct names of the namespace's
 * committed marks in a temporary table, sends each name once (paged through a cursor, so memory
 * stays flat however many marks wait), then deletes those marks, and commits only after the
 * broker acknowledged every send. Any failure before that commit undoes the deletion: a crash in
 * between resends (a harmless duplicate recount), never loses a mark. Marks committed after the
 * drain began are not in its snapshot: they wait for the next drain.
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

/** Names waiting in the namespace's outbox (a name marked by several batches counts each time). */
export async function waitingNames(db: Pool, namespace: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT coalesce(sum(cardinality(names)), 0) AS n FROM product_count_outbox WHERE namespace = $1', [
    namespace,
  ]);
  return Number(rows[0].n);
}

/** bytes of names per partition in one send */
const SEND_BYTES_PER_PARTITION = 512 * 1024;

export const RELAY_DEFAULTS = { quietMs: 100, maxDelayMs: 1000, pollMs: 1000, page: 20_000 };

export function createProductCountRelay(options: {
  config: DasyConfig;
  pool: Pool;
  logger: Logger;
  /** names per send */
  page?: number;
  pollMs?: number;
  quietMs?: number;
  maxDelayMs?: number;
  /** test hook: runs after the sends were acknowledged, before the deletion commits */
  afterSend?: (names: string[]) => Promise<void>;
}): ProductCountRelay {
  const { config, pool } = options;
  const log = options.logger.namespace('product-count-producer');
  const page = options.page ?? RELAY_DEFAULTS.page;
  const pollMs = options.pollMs ?? RELAY_DEFAULTS.pollMs;
  const quietMs = options.quietMs ?? RELAY_DEFAULTS.quietMs;
  const maxDelayMs = Math.max(quietMs, options.maxDelayMs ?? RELAY_DEFAULTS.maxDelayMs);
  const topic = topicName(config.namespace, 'productCount');
  // persistent: a broker restart is waited for (said once by the client), inside the drain
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-product-count-producer', logger: log, persistent: true });
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
  });
  let partitions: number | undefined; // known once connected and the topic's metadata was read
  let connected = false;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: () => void = () => undefined;
  let urgent = false;
  let hurry: () => void = () => undefined;
  let listener: Client | undefined;
  let relayed = 0;

  async function listen() {
    try {
      const client = new Client({ connectionString: config.databaseUrl, application_name: 'dasy-product-count-producer-listen' });
      client.on('error', () => {
        listener = undefined; // reconnect at the next idle pause
      });
      await client.connect();
      client.on('notification', (n) => {
        if (n.payload === config.namespace) wake();
      });
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      listener = client;
    } catch {
      listener = undefined; // polling still works; try again later
    }
  }

  /** The newest waiting mark (null when none): a cheap probe on the (namespace, id) index. */
  async function newestMark(): Promise<string | null> {
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM product_count_outbox WHERE namespace = $1 ORDER BY id DESC LIMIT 1`, [config.namespace]);
    return rows[0]?.id ?? null;
  }

  /** One drain; returns how many names it sent. */
  async function drain(): Promise<number> {
    return withTransaction(pool, async (client) => {
      // One snapshot for the whole drain: the names it sends and the marks it deletes are the
      // same, the marks committed before it began. Marks of transactions still running are not in
      // it: they stay for the next drain. (A mark another relay deleted meanwhile fails this
      // drain with a serialization error: nothing is lost, its names were sent twice.)
      await client.query(`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`);
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS dasy_relay_names (name text NOT NULL) ON COMMIT DELETE ROWS`);
      const taken = await client.query(`INSERT INTO dasy_relay_names (name) SELECT DISTINCT unnest(names) FROM product_count_outbox WHERE namespace = $1`, [
        config.namespace,
      ]);
      if (!taken.rowCount) return 0;
      await client.query(`DECLARE dasy_relay_cursor NO SCROLL CURSOR FOR SELECT name FROM dasy_relay_names`);
      const sentNames: string[] | undefined = options.afterSend ? [] : undefined;
      let sent = 0;
      // Sends as large as the broker takes (a partition's record batch stays well under its 1 MB
      // message.max.bytes): the product-count consumers then get large batches to recount.
      const budget = SEND_BYTES_PER_PARTITION * (partitions ?? 1);
      let batch: string[] = [];
      let bytes = 0;
      const flush = async () => {
        if (!batch.length) return;
        const names = batch;
        batch = [];
        bytes = 0;
        await producer.send({
          topic,
          acks: -1,
          // explicit partitions: the same as kafkajs's murmur2 of the key, without its 64-bit emulation
          messages: names.map((name) => ({ key: name, value: name, partition: partitions ? partitionFor(name, partitions) : undefined })),
        });
        sent += names.length;
        sentNames?.push(...names);
      };
      for (;;) {
        const { rows } = await client.query<{ name: string }>(`FETCH ${page} FROM dasy_relay_cursor`);
        if (!rows.length) break;
        for (const { name } of rows) {
          const size = 2 * Buffer.byteLength(name) + 16;
          if (bytes + size > budget) await flush();
          batch.push(name);
          bytes += size;
        }
      }
      await flush();
      if (options.afterSend) await options.afterSend(sentNames!);
      // all acknowledged: the marks go (for good at the commit), the recounts are already under way
      await client.query(`DELETE FROM product_count_outbox WHERE namespace = $1`, [config.namespace]);
      return sent;
    });
  }

  async function partitionCount() {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      partitions = meta.topics[0]?.partitions.length || undefined;
    } finally {
      await admin.disconnect();
    }
  }

  function idle(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wake = () => undefined;
    });
  }

  async function run() {
    let delay = 200;
    let down = false;
    let waitingSince: number | undefined; // when we first saw marks waiting
    let lastNewest: string | null = null;
    while (running) {
      try {
        if (!connected) {
          // here rather than in start(): a broker that is down is retried like any other outage
          await producer.connect();
          connected = true;
          // without it, kafkajs's partitioner picks the same partitions, only slower
          await partitionCount().catch((err) => log.debug(`cannot read the partition count of ${topic}`, { err: errorMessage(err) }));
        }
        if (!listener) await listen();
        const newest = await newestMark();
        if (newest === null) {
          waitingSince = undefined;
          lastNewest = null;
          await idle(pollMs);
          continue;
        }
        const now = Date.now();
        waitingSince ??= now;
        const due = waitingSince + maxDelayMs;
        if (!urgent && newest !== lastNewest && now < due) {
          // marks are still arriving: let them coalesce a little longer
          lastNewest = newest;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(quietMs, due - now));
            hurry = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          hurry = () => undefined;
          continue;
        }
        urgent = false; // before the drain's snapshot: a later drainNow() gets a drain of its own
        const n = await drain();
        relayed += n;
        waitingSince = undefined;
        lastNewest = null;
        if (down) {
          down = false;
          log.warn('relaying again');
        }
        delay = 200;
      } catch (err) {
        if (!running) break;
        if ((err as { code?: string }).code === '40001') {
          // another relay took some of these marks meanwhile: drain again (duplicates are harmless)
          log.debug(`drain overlapped another relay's; again`);
          await sleep(50);
          continue;
        }
        if (!down) log.warn(`cannot relay (${errorMessage(err)}); retrying with backoff`, { retriable: isRetriableDbError(err) });
        down = true;
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  return {
    start() {
      running = true;
      loop = run();
      return Promise.resolve();
    },
    drainNow() {
      urgent = true;
      hurry();
      wake();
    },
    async stop() {
      running = false;
      hurry();
      wake();
      await loop;
      await listener?.end().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    },
    relayed: () => relayed,
  };
}
