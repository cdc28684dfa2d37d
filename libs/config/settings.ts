import {
  ConsumerTuning,
  DEFAULTS,
  LogLevel,
  optional,
  parseBrokers,
  parseConsumerTuning,
  parseDatabaseUrl,
  parseInteger,
  parseLogLevel,
  parseNamespace,
  parseOnOff,
  parsePort,
  parseUpstream,
} from './parse';

type Env = Record<string, string | undefined>;

/**
 * DASY_PG_IDLE_IN_TRANSACTION_MS's default: no dasy transaction waits on anything but PostgreSQL
 * (none stays open across a call to Kafka), so its pauses between statements are milliseconds,
 * seconds on a starved machine; a minute is far beyond those, and short enough that a stuck or
 * frozen client cannot hold back VACUUM (and its locks) for long.
 */
export const IDLE_IN_TRANSACTION_DEFAULT_MS = 60_000;

/** One environment variable: its default, what it means, and its strict parser. */
export interface Setting<T> {
  variable: string;
  default: string;
  doc: string;
  parse(raw: string | undefined): T;
}

export const setting = <T>(variable: string, dflt: string, doc: string, parse: (raw: string | undefined) => T): Setting<T> => ({
  variable,
  default: dflt,
  doc,
  parse,
});

/**
 * Every setting of dasy, declared once (DESIGN.md §3 and what the parts add). `dasy settings`
 * prints this table; README.md's Configuration section lists it.
 */
export const SETTINGS = {
  databaseUrl: setting('DATABASE_URL', DEFAULTS.DATABASE_URL, 'the database; created by make up if missing', parseDatabaseUrl),
  kafkaBrokers: setting('KAFKA_BROKERS', DEFAULTS.KAFKA_BROKERS, 'comma-separated bootstrap brokers', parseBrokers),
  namespace: setting('DASY_NAMESPACE', DEFAULTS.DASY_NAMESPACE, 'prefix of every topic and consumer group; its PostgreSQL schema', parseNamespace),
  port: setting('PORT', DEFAULTS.PORT, 'HTTP port of the api', (v) => parsePort(v)),
  apiToken: setting('DASY_API_TOKEN', '', 'when set, write endpoints require Authorization: Bearer <token>', optional),
  audit: setting('DASY_AUDIT', 'on', 'keep an audit row per score push (on/off)', (v) => parseOnOff('DASY_AUDIT', v, true)),
  adUpstreamUrl: setting('AD_UPSTREAM_URL', '', 'the VAST server /ad answers from (unset: a built-in sample)', parseUpstream),
  // how long an api client may take (the headers are part of the request: their timeout is capped by it)
  apiHeadersTimeoutMs: setting('DASY_API_HEADERS_TIMEOUT_MS', '10000', 'api: ms a client has to send its request line and headers (else 408)', (v) =>
    parseInteger('DASY_API_HEADERS_TIMEOUT_MS', optional(v) ?? '10000', 1, 3_600_000),
  ),
  apiRequestTimeoutMs: setting('DASY_API_REQUEST_TIMEOUT_MS', '30000', 'api: ms a client has to send its whole request, body included (else 408)', (v) =>
    parseInteger('DASY_API_REQUEST_TIMEOUT_MS', optional(v) ?? '30000', 1, 3_600_000),
  ),
  apiKeepAliveTimeoutMs: setting('DASY_API_KEEPALIVE_TIMEOUT_MS', '5000', 'api: ms after which an idle keep-alive connection is closed', (v) =>
    parseInteger('DASY_API_KEEPALIVE_TIMEOUT_MS', optional(v) ?? '5000', 1, 3_600_000),
  ),
  // a stuck client holding a transaction open holds back VACUUM for the whole database
  pgIdleInTransactionMs: setting(
    'DASY_PG_IDLE_IN_TRANSACTION_MS',
    String(IDLE_IN_TRANSACTION_DEFAULT_MS),
    "ms a dasy connection may sit idle inside a transaction before PostgreSQL ends its session (0: the server's own setting)",
    (v) => parseInteger('DASY_PG_IDLE_IN_TRANSACTION_MS', optional(v) ?? String(IDLE_IN_TRANSACTION_DEFAULT_MS), 0, 86_400_000),
  ),
  apiSendQueue: setting(
    'DASY_API_SEND_QUEUE',
    '10000',
    'api: events (pushes, resets, ad events) waiting to be sent to Kafka at most; beyond, 503 at once',
    (v) => parseInteger('DASY_API_SEND_QUEUE', optional(v) ?? '10000', 1, 1_000_000),
  ),
  apiIdempotencyWindowMs: setting(
    'DASY_API_IDEMPOTENCY_WINDOW_MS',
    '86400000',
    'api: ms an Idempotency-Key is remembered (a retry within it is applied once and answered as the first)',
    (v) => parseInteger('DASY_API_IDEMPOTENCY_WINDOW_MS', optional(v) ?? '86400000', 60_000, 30 * 86_400_000),
  ),
  logLevel: setting<LogLevel>('DASY_LOG_LEVEL', 'warn', 'error, warn, info or debug (normal operation logs nothing at warn)', parseLogLevel),
  consumerTuning: setting<Record<string, ConsumerTuning>>(
    'DASY_CONSUMER_TUNING',
    '',
    'for measurements: [part.]members|concurrency|maxBytesPerPartition=N, comma-separated',
    parseConsumerTuning,
  ),
  // Kafka's own consumers commit every 5 s (auto.commit.interval.ms); a commit per batch of the api's
  // scores consumer (hundreds a second) was a third of the broker's CPU under pushes
  offsetMirrorIntervalMs: setting(
    'DASY_OFFSET_MIRROR_INTERVAL_MS',
    '1000',
    "ms between two mirrors of a consumer's offsets to its Kafka group (monitoring only; 0: after every batch)",
    (v) => parseInteger('DASY_OFFSET_MIRROR_INTERVAL_MS', optional(v) ?? '1000', 0, 60_000),
  ),
  ci: setting('CI', 'off', 'on: no progress lines even on a terminal', (v) => parseOnOff('CI', v, false)),
  preparedByParent: setting(
    'DASY_PREPARED_BY_PARENT',
    'off',
    'internal: set by dasy ingest for the parts it forks (it prepares topics and migrations once)',
    (v) => parseOnOff('DASY_PREPARED_BY_PARENT', v, false),
  ),
} as const;

export type DasyConfig = { [K in keyof typeof SETTINGS]: ReturnType<(typeof SETTINGS)[K]['parse']> };

/** Every setting from the environment, validated: a bad value throws ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): DasyConfig {
  return loadSettings(SETTINGS, env);
}

/** A table of settings (the product's, or dev-settings.ts's) read from the environment, each by its strict parser. */
export function loadSettings<S extends Record<string, Setting<unknown>>>(table: S, env: Env = process.env): { [K in keyof S]: ReturnType<S[K]['parse']> } {
  const config: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(table)) config[key] = s.parse(env[s.variable]);
  return config as { [K in keyof S]: ReturnType<S[K]['parse']> };
}

/** A settings table, for `dasy settings` (and the development entry point's). */
export function describeSettings(table: Record<string, Setting<unknown>> = SETTINGS): { variable: string; default: string; meaning: string }[] {
  return Object.values(table).map((s) => ({ variable: s.variable, default: s.default, meaning: s.doc }));
}
