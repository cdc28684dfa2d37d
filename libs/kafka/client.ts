import * as net from 'net';
import * as tls from 'tls';
import { ISocketFactory, Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import './kafkajs-check'; // fails loudly when kafkajs is not the patched 2.2.4
import { Logger } from '../log';
import { OutageNotice, outageNotice } from '../runtime';

// kafkajs v2 prints a notice about its partitioner change on every producer; we choose explicitly.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/**
 * One Kafka client per process. kafkajs's own logs go through our logger at warn and above,
 * so normal operation (joins, rebalances) stays quiet.
 *
 * An unreachable or restarting broker makes kafkajs log an error per attempt per connection;
 * those are folded into one line per outage ("Kafka at ... unavailable (...); retrying with
 * backoff") and one when requests succeed again ("... reachable again; resuming"); the detail
 * stays at debug level.
 *
 * `persistent`: the client's own reconnects (metadata, broker connections) retry without limit,
 * with backoff up to 5 s, so a producer or admin call waits for a broker restart instead of
 * failing after a few attempts. For the long-running parts and the producers; one-shot reports
 * (status, reset) keep the bounded default and fail with one line.
 */
export function createKafka(options: {
  brokers: string[];
  clientId: string;
  logger: Logger;
  persistent?: boolean;
  /** TCP_NODELAY on broker connections: small requests (one HTTP push) leave at once */
  noDelay?: boolean;
}): Kafka {
  const log = options.logger.namespace('kafkajs');
  // quiet period, longer than the longest backoff: a broker that flaps while it starts (or one of
  // three that is down) makes one outage, not many
  // grace: kafkajs retries transient answers (coordinator loading, leader moving) at once; only
  // failures that last are an outage worth a line
  const outage = outageNotice(options.logger, `Kafka at ${options.brokers.join(',')}`, 10000, 2000);
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3000,
    ...(options.noDelay ? { socketFactory: noDelaySocketFactory } : {}),
    requestTimeout: 30000,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: options.persistent ? Number.MAX_SAFE_INTEGER : 8 },
    logLevel: log.level === 'debug' ? KafkaLogLevel.DEBUG : log.level === 'info' ? KafkaLogLevel.INFO : KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...extra } = entry as Record<string, unknown> & { message: string };
        if (isExpectedNoise(message) || isExpectedNoise(text(extra.error ?? ''))) return;
        if (level <= KafkaLogLevel.WARN && isUnavailability(message, extra)) {
          outage.failed(text(extra.error ?? message));
          log.debug(message, extra);
          return;
        }
        if (level <= KafkaLogLevel.ERROR) log.error(message, extra);
        else if (level === KafkaLogLevel.WARN) log.warn(message, extra);
        else if (level === KafkaLogLevel.INFO) log.info(message, extra);
        else log.debug(message, extra);
      },
  });
  // Every completed request is a sign of life: it ends an announced outage.
  for (const kind of ['producer', 'consumer', 'admin'] as const) {
    const make = kafka[kind].bind(kafka) as (config?: unknown) => { on(event: string, listener: () => void): unknown; events: { REQUEST: string } };
    (kafka as unknown as Record<string, unknown>)[kind] = (config?: unknown) => {
      const client = make(config);
      client.on(client.events.REQUEST, () => outage.ok());
      return client;
    };
  }
  outages.set(kafka, outage);
  return kafka;
}

const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect) : net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, 60000);
  socket.setNoDelay(true);
  return socket;
};

const outages = new WeakMap<Kafka, OutageNotice>();

/** The outage notice of a client made by createKafka (for parts that see failures kafkajs does not log). */
export function kafkaOutage(kafka: Kafka): OutageNotice | undefined {
  return outages.get(kafka);
}

// Rebalances are normal in a consumer group; kafkajs reports them at ERROR level. So is a broker
// that does not know a new topic yet (its metadata arrives a moment later; kafkajs asks again).
function isExpectedNoise(message: string): boolean {
  return /rebalancing|The group is rebalancing|not aware of this member|specified group generation id is not valid|does not host this topic-partition|consumer stopped; batch abandoned/i.test(
    message,
  );
}

/**
 * What a broker that is down, restarting or moving leadership looks like from the client: refused
 * or dropped connections, timeouts, coordinators and leaders not available yet, and the consumer
 * restarts kafkajs does because of them.
 */
const UNAVAILABLE =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|Connection (error|timeout|closed)|Closed connection|Not connected|Failed to connect|disconnected|Request .*timed out|coordinator is (not available|loading)|not the correct coordinator|Failed to find group coordinator|not the leader|no leader|leadership election|LEADER_NOT_AVAILABLE|NOT_LEADER|NOT_COORDINATOR|COORDINATOR_(NOT_AVAILABLE|LOAD_IN_PROGRESS)|not enough replicas|NOT_ENOUGH_REPLICAS|Broker not (connected|found)|No broker available|KafkaJSNumberOfRetriesExceeded|Restarting the consumer|metadata (is|not) (loaded|available)|replica.*not available|in the middle of a leadership election/i;

/** A log entry's field as text (kafkajs passes errors and stacks as strings). */
function text(value: unknown): string {
  return String(value);
}

export function isUnavailability(message: string, extra: Record<string, unknown> = {}): boolean {
  return UNAVAILABLE.test(message) || UNAVAILABLE.test(text(extra.error ?? '')) || (/^Crash:/.test(message) && UNAVAILABLE.test(text(extra.stack ?? '')));
}

/** Whether a kafkajs error (or one it wraps) says the cluster is unreachable or not ready, rather than a usage error. */
export function isRetriableKafkaError(err: unknown): boolean {
  for (
    let e = err as { name?: string; message?: string; retriable?: boolean; cause?: unknown } | undefined, depth = 0;
    e && depth < 8;
    e = e.cause as typeof e, depth++
  ) {
    if (
      e.name === 'KafkaJSConnectionError' ||
      e.name === 'KafkaJSConnectionClosedError' ||
      e.name === 'KafkaJSNumberOfRetriesExceeded' ||
      e.name === 'KafkaJSRequestTimeoutError'
    )
      return true;
    if (e.name === 'KafkaJSGroupCoordinatorNotFound' || e.name === 'KafkaJSBrokerNotFound' || e.name === 'KafkaJSNoBrokerAvailableError') return true;
    // a request waiting on a lock that a reconnect holds (metadata refresh during an outage)
    if (e.name === 'KafkaJSLockTimeout') return true;
    if (UNAVAILABLE.test(String(e.message ?? ''))) return true;
    if (e.retriable === true && /^KafkaJS/.test(String(e.name))) return true;
  }
  return false;
}
