import * as net from 'net';
import * as tls from 'tls';
import {
  Admin as ClientAdmin,
  AdminConfig,
  Consumer as ClientConsumer,
  ConsumerConfig as ClientConsumerConfig,
  ISocketFactory,
  Kafka as Client,
  KafkaConfig,
  logLevel as KafkaLogLevel,
  LogEntry,
  Partitioners,
  Producer as ClientProducer,
  ProducerConfig as ClientProducerConfig,
} from 'kafkajs';
import { Logger } from '../log';
import './kafkajs-check'; // the patched kafkajs, or a loud failure at load
import { OutageNotice, outageNotice } from '../resilience/outage';
import { clientConsumerConfig, consumerPort } from './consumer';
import { withClientErrors } from './errors';
import { Admin, Consumer, ConsumerConfig, Kafka, Producer, ProducerConfig } from './port';

// kafkajs v2 prints a notice about its partitioner change on every producer; we choose explicitly.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/**
 * kafkajs's Kafka, whose every producer, consumer and admin reports completed requests to the
 * client's outage notice: any request that succeeds ends an announced outage.
 */
class ObservedKafka extends Client {
  constructor(
    config: KafkaConfig,
    private readonly outage: OutageNotice,
  ) {
    super(config);
  }
  override producer(config?: ClientProducerConfig): ClientProducer {
    const producer = super.producer(config);
    producer.on(producer.events.REQUEST, () => this.outage.ok());
    return producer;
  }
  override consumer(config: ClientConsumerConfig): ClientConsumer {
    const consumer = super.consumer(config);
    consumer.on(consumer.events.REQUEST, () => this.outage.ok());
    return consumer;
  }
  override admin(config?: AdminConfig): ClientAdmin {
    const admin = super.admin(config);
    admin.on(admin.events.REQUEST, () => this.outage.ok());
    return admin;
  }
}

/** The port's client (port.ts) over kafkajs's: what it makes answers with dasy's types and errors. */
class KafkaPort implements Kafka {
  constructor(private readonly client: Client) {}
  producer(config?: ProducerConfig): Producer {
    // murmur2 of the key, as the Java client (kafkajs's default since v2, chosen explicitly)
    return withClientErrors<Producer>(this.client.producer({ ...config, createPartitioner: Partitioners.DefaultPartitioner }));
  }
  consumer(config: ConsumerConfig): Consumer {
    return consumerPort(this.client.consumer(clientConsumerConfig(config)));
  }
  admin(): Admin {
    return withClientErrors<Admin>(this.client.admin());
  }
}

/**
 * One Kafka client per process. Normal operation (joins, rebalances, retries kafkajs resolves by
 * itself) stays quiet: kafkajs's own lines go to our debug level, except its warnings about how it
 * is used. An unreachable or restarting broker makes kafkajs log a line per attempt per
 * connection; those are folded into one line per outage ("Kafka at ... unavailable (...);
 * retrying with backoff") and one when requests succeed again ("... reachable again; resuming").
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
  // quiet: longer than the longest backoff, so a broker that flaps while it starts (or one of three
  // that is down) makes one outage, not many; grace: kafkajs retries transient answers (coordinator
  // loading, leader moving) at once, and only failures that last are an outage worth a line
  const outage = outageNotice(options.logger, `Kafka at ${options.brokers.join(',')}`, 10000, 2000);
  const client = new ObservedKafka(
    {
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: 3000,
      ...(options.noDelay ? { socketFactory: noDelaySocketFactory } : {}),
      requestTimeout: 30000,
      retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: options.persistent ? Number.MAX_SAFE_INTEGER : 8 },
      logLevel: log.level === 'debug' ? KafkaLogLevel.DEBUG : KafkaLogLevel.WARN,
      logCreator: () => (entry: LogEntry) => routeKafkaLog(entry, log, outage),
    },
    outage,
  );
  const kafka = new KafkaPort(client);
  outages.set(kafka, outage);
  return kafka;
}

export type KafkaLogRoute = 'outage' | 'debug' | 'warn' | 'error';

/**
 * Where a kafkajs log line goes, from its structure (level, namespace, fields), not its text:
 * - a line about an attempt kafkajs retries (it carries `retryCount`), or a connection or broker
 *   pool failing, is a sign of an outage: the outage notice, detail at debug level;
 * - the consumer's runner and group report what the consumer base sees anyway (crashes, by class;
 *   rebalances, which are normal) and a broker's error answer (`correlationId`) is a broker that
 *   answers: debug;
 * - any other warning or error (how kafkajs is used) stays one.
 */
export function kafkaLogRoute(entry: Pick<LogEntry, 'namespace' | 'level'> & { log: Record<string, unknown> }): KafkaLogRoute {
  if (entry.level > KafkaLogLevel.WARN) return 'debug';
  const fields = entry.log;
  if ('correlationId' in fields) return 'debug';
  if ('retryCount' in fields || OUTAGE_NAMESPACES.has(entry.namespace)) return 'outage';
  if (CONSUMER_NAMESPACES.has(entry.namespace)) return 'debug';
  return entry.level === KafkaLogLevel.WARN ? 'warn' : 'error';
}

const OUTAGE_NAMESPACES = new Set(['Connection', 'BrokerPool', 'Cluster']);
const CONSUMER_NAMESPACES = new Set(['Runner', 'ConsumerGroup', 'Consumer']);

function routeKafkaLog(entry: LogEntry, log: Logger, outage: OutageNotice) {
  const { message, timestamp: _t, logger: _l, ...extra } = entry.log as Record<string, unknown> & { message: string };
  const route = kafkaLogRoute(entry);
  if (route === 'outage') outage.failed(typeof extra.error === 'string' ? extra.error : message);
  if (route === 'warn') log.warn(message, extra);
  else if (route === 'error') log.error(message, extra);
  else log.debug(message, { namespace: entry.namespace, ...extra });
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
