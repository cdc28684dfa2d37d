import { ConfigError } from '../errors';

/** Parsers of setting values (settings.ts declares which variable uses which): strict, one line naming the variable on a bad value. */

export const DEFAULTS = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/dasy',
  KAFKA_BROKERS: '127.0.0.1:9092',
  DASY_NAMESPACE: 'dasy',
  PORT: '3000',
} as const;

export function optional(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export function parseDatabaseUrl(value: string | undefined): string {
  const raw = optional(value) ?? DEFAULTS.DATABASE_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', `not a valid URL (${JSON.stringify(raw)}); expected postgres://user@host:port/database`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `scheme must be postgres:// or postgresql://, got ${JSON.stringify(url.protocol)}`);
  }
  if (!url.hostname) throw new ConfigError('DATABASE_URL', 'has no host');
  const db = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!db) throw new ConfigError('DATABASE_URL', 'names no database (add /<name> after the host)');
  return raw;
}

/** The database name of a DATABASE_URL (validated by parseDatabaseUrl). */
export function databaseName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
}

/** The same server, another database (to create or drop the configured one). */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/' + encodeURIComponent(database);
  return url.toString();
}

export function parseBrokers(value: string | undefined): string[] {
  const raw = optional(value) ?? DEFAULTS.KAFKA_BROKERS;
  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new ConfigError('KAFKA_BROKERS', 'is empty; expected host:port[,host:port...]');
  for (const b of brokers) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(b);
    if (!m) throw new ConfigError('KAFKA_BROKERS', `${JSON.stringify(b)} is not host:port`);
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new ConfigError('KAFKA_BROKERS', `port of ${JSON.stringify(b)} is out of range 1-65535`);
  }
  return brokers;
}

export function parseNamespace(value: string | undefined): string {
  const raw = optional(value) ?? DEFAULTS.DASY_NAMESPACE;
  // Topic names allow [a-zA-Z0-9._-]; the namespace is also the name of its PostgreSQL schema,
  // and PostgreSQL cuts identifiers at 63 bytes (two longer namespaces could share a schema).
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,62}$/.test(raw)) {
    throw new ConfigError('DASY_NAMESPACE', `${JSON.stringify(raw)} must be 1-63 characters of letters, digits, '.', '_' or '-'`);
  }
  return raw;
}

export function parsePort(value: string | undefined, variable = 'PORT'): number {
  const raw = optional(value) ?? DEFAULTS.PORT;
  if (!/^\d+$/.test(raw)) throw new ConfigError(variable, `${JSON.stringify(raw)} is not a port number`);
  const port = Number(raw);
  if (port < 1 || port > 65535) throw new ConfigError(variable, `${port} is out of range 1-65535`);
  return port;
}

export function parseOnOff(variable: string, value: string | undefined, dflt: boolean): boolean {
  const raw = optional(value);
  if (raw === undefined) return dflt;
  const v = raw.toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(v)) return true;
  if (['off', 'false', '0', 'no'].includes(v)) return false;
  throw new ConfigError(variable, `${JSON.stringify(raw)} must be on or off`);
}

export function parseUpstream(value: string | undefined): string | undefined {
  const raw = optional(value);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('AD_UPSTREAM_URL', `not a valid URL (${JSON.stringify(raw)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('AD_UPSTREAM_URL', 'must be an http:// or https:// URL');
  }
  return raw;
}

/** Positive integer option (CONSUMERS=2, ROWS=500000...). */
export function parsePositiveInt(variable: string, value: string | undefined, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = optional(value);
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new ConfigError(variable, `${JSON.stringify(raw)} must be a whole number from 1 to ${max}`);
  }
  return Number(raw);
}

/** A whole number from min to max (the one integer parser: settings and CLI options alike). */
export function parseInteger(variable: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(variable, `${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export function parseLogLevel(value: string | undefined): LogLevel {
  const raw = optional(value)?.toLowerCase() ?? 'warn';
  if (raw === 'error' || raw === 'warn' || raw === 'info' || raw === 'debug') return raw;
  throw new ConfigError('DASY_LOG_LEVEL', `${JSON.stringify(value)} must be error, warn, info or debug`);
}

/** How a pipeline consumer reads: group members in the process, batches each applies at once, batch size. */
export interface ConsumerTuning {
  /** kafkajs members of the group in this process */
  members?: number;
  /** batches applied at once by one member (each with its own connection) */
  concurrency?: number;
  /** bytes fetched per partition: bounds a batch */
  maxBytesPerPartition?: number;
}

const TUNING_KEYS = ['members', 'concurrency', 'maxBytesPerPartition'] as const;

/**
 * DASY_CONSUMER_TUNING="members=2,concurrency=2" for every pipeline consumer, or keys prefixed
 * with a part's name for one: "products-consumer.concurrency=3,product-count-consumer.members=2",
 * a dataset's too: "orders-consumer.maxBytesPerPartition=65536,orders.customer_totals-consumer.members=2".
 * Returns part (or '*') → tuning.
 */
export function parseConsumerTuning(value: string | undefined): Record<string, ConsumerTuning> {
  const out: Record<string, ConsumerTuning> = {};
  const raw = optional(value);
  if (raw === undefined) return out;
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    // a part's name: products' (`products-consumer`) or a dataset's (`orders-consumer`,
    // `orders.customer_totals-consumer`: underscores, and a dot before the aggregate)
    const m = /^(?:([a-z][a-z0-9_.-]*)\.)?([A-Za-z]+)=(\d+)$/.exec(part);
    const key = m?.[2] as (typeof TUNING_KEYS)[number] | undefined;
    if (!m || !key || !TUNING_KEYS.includes(key)) {
      throw new ConfigError('DASY_CONSUMER_TUNING', `${JSON.stringify(part)} is not [part.]key=number with key one of ${TUNING_KEYS.join(', ')}`);
    }
    (out[m[1] ?? '*'] ??= {})[key] = parseInteger('DASY_CONSUMER_TUNING', m[3], 1, 1 << 30);
  }
  return out;
}
