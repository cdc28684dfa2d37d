import { ConfigError } from '../errors';

/**
 * Typed configuration from the environment, defaults from DESIGN.md §3. Validated strictly at
 * start: a bad value throws ConfigError naming the variable, which the CLI prints as one line.
 */
export interface DasyConfig {
  databaseUrl: string;
  kafkaBrokers: string[];
  namespace: string;
  port: number;
  apiToken: string | undefined;
  audit: boolean;
  adUpstreamUrl: string | undefined;
}

export const DEFAULTS = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/dasy',
  KAFKA_BROKERS: '127.0.0.1:9092',
  DASY_NAMESPACE: 'dasy',
  PORT: '3000',
} as const;

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): DasyConfig {
  return {
    databaseUrl: parseDatabaseUrl(env.DATABASE_URL),
    kafkaBrokers: parseBrokers(env.KAFKA_BROKERS),
    namespace: parseNamespace(env.DASY_NAMESPACE),
    port: parsePort(env.PORT),
    apiToken: optional(env.DASY_API_TOKEN),
    audit: parseOnOff('DASY_AUDIT', env.DASY_AUDIT, true),
    adUpstreamUrl: parseUpstream(env.AD_UPSTREAM_URL),
  };
}

function optional(value: string | undefined): string | undefined {
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
  // Topic names allow [a-zA-Z0-9._-]; keep room for the longest suffix (".products.rejects.dlq").
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,179}$/.test(raw)) {
    throw new ConfigError('DASY_NAMESPACE', `${JSON.stringify(raw)} must be 1-180 characters of letters, digits, '.', '_' or '-'`);
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

function parseUpstream(value: string | undefined): string | undefined {
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
