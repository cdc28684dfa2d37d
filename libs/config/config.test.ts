import { ConfigError } from '../errors';
import { describeSettings, loadConfig, parseBrokers, parsePositiveInt, withDatabase, databaseName } from './index';

describe('loadConfig', () => {
  test('defaults from the contract when nothing is set', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/dasy',
      kafkaBrokers: ['127.0.0.1:9092'],
      namespace: 'dasy',
      port: 3000,
      apiToken: undefined,
      audit: true,
      adUpstreamUrl: undefined,
      logLevel: 'warn',
      consumerTuning: {},
      ci: false,
      preparedByParent: false,
      apiHeadersTimeoutMs: 10000,
      apiRequestTimeoutMs: 30000,
      apiKeepAliveTimeoutMs: 5000,
      pgIdleInTransactionMs: 60000,
      apiSendQueue: 10000,
      apiIdempotencyWindowMs: 86400000,
      offsetMirrorIntervalMs: 1000,
    });
  });

  test('reads every variable', () => {
    expect(
      loadConfig({
        DATABASE_URL: 'postgresql://u:p@db:6543/other',
        KAFKA_BROKERS: 'a:1, b:2',
        DASY_NAMESPACE: 'ns-1',
        PORT: '8080',
        DASY_API_TOKEN: 'secret',
        DASY_AUDIT: 'off',
        AD_UPSTREAM_URL: 'http://127.0.0.1:9/vast',
        DASY_API_HEADERS_TIMEOUT_MS: '2000',
        DASY_API_REQUEST_TIMEOUT_MS: '4000',
        DASY_API_KEEPALIVE_TIMEOUT_MS: '65000',
        DASY_PG_IDLE_IN_TRANSACTION_MS: '0',
        DASY_API_SEND_QUEUE: '500',
        DASY_API_IDEMPOTENCY_WINDOW_MS: '3600000',
        DASY_OFFSET_MIRROR_INTERVAL_MS: '0',
      }),
    ).toMatchObject({
      databaseUrl: 'postgresql://u:p@db:6543/other',
      kafkaBrokers: ['a:1', 'b:2'],
      namespace: 'ns-1',
      port: 8080,
      apiToken: 'secret',
      audit: false,
      adUpstreamUrl: 'http://127.0.0.1:9/vast',
      apiHeadersTimeoutMs: 2000,
      apiRequestTimeoutMs: 4000,
      apiKeepAliveTimeoutMs: 65000,
      pgIdleInTransactionMs: 0,
      apiSendQueue: 500,
      apiIdempotencyWindowMs: 3600000,
      offsetMirrorIntervalMs: 0,
    });
  });

  test.each([
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL: not a valid URL ("not a url"); expected postgres://user@host:port/database'],
    [{ DATABASE_URL: 'mysql://h/db' }, 'DATABASE_URL: scheme must be postgres:// or postgresql://, got "mysql:"'],
    [{ DATABASE_URL: 'postgres://h:5432' }, 'DATABASE_URL: names no database (add /<name> after the host)'],
    [{ PORT: '0' }, 'PORT: 0 is out of range 1-65535'],
    [{ PORT: '65536' }, 'PORT: 65536 is out of range 1-65535'],
    [{ PORT: 'http' }, 'PORT: "http" is not a port number'],
    [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS: "localhost" is not host:port'],
    [{ KAFKA_BROKERS: 'h:70000' }, 'KAFKA_BROKERS: port of "h:70000" is out of range 1-65535'],
    [{ KAFKA_BROKERS: ' , ' }, 'KAFKA_BROKERS: is empty; expected host:port[,host:port...]'],
    [{ DASY_NAMESPACE: 'a b' }, `DASY_NAMESPACE: "a b" must be 1-63 characters of letters, digits, '.', '_' or '-'`],
    [{ DASY_NAMESPACE: 'n'.repeat(64) }, `DASY_NAMESPACE: "${'n'.repeat(64)}" must be 1-63 characters of letters, digits, '.', '_' or '-'`],
    [{ DASY_AUDIT: 'maybe' }, 'DASY_AUDIT: "maybe" must be on or off'],
    [{ AD_UPSTREAM_URL: 'ftp://x/y' }, 'AD_UPSTREAM_URL: must be an http:// or https:// URL'],
    [{ DASY_LOG_LEVEL: 'loud' }, 'DASY_LOG_LEVEL: "loud" must be error, warn, info or debug'],
    [{ DASY_CONSUMER_TUNING: 'members=0' }, 'DASY_CONSUMER_TUNING: "0" must be a whole number from 1 to 1073741824'],
    [
      { DASY_CONSUMER_TUNING: 'speed=3' },
      'DASY_CONSUMER_TUNING: "speed=3" is not [part.]key=number with key one of members, concurrency, maxBytesPerPartition',
    ],
    [{ CI: 'yes please' }, 'CI: "yes please" must be on or off'],
    [{ DASY_PG_IDLE_IN_TRANSACTION_MS: '1m' }, 'DASY_PG_IDLE_IN_TRANSACTION_MS: "1m" must be a whole number from 0 to 86400000'],
    [{ DASY_API_HEADERS_TIMEOUT_MS: '0' }, 'DASY_API_HEADERS_TIMEOUT_MS: "0" must be a whole number from 1 to 3600000'],
    [{ DASY_API_REQUEST_TIMEOUT_MS: '1.5' }, 'DASY_API_REQUEST_TIMEOUT_MS: "1.5" must be a whole number from 1 to 3600000'],
    [{ DASY_API_KEEPALIVE_TIMEOUT_MS: '5s' }, 'DASY_API_KEEPALIVE_TIMEOUT_MS: "5s" must be a whole number from 1 to 3600000'],
    [{ DASY_API_SEND_QUEUE: '0' }, 'DASY_API_SEND_QUEUE: "0" must be a whole number from 1 to 1000000'],
    [{ DASY_API_IDEMPOTENCY_WINDOW_MS: '1000' }, 'DASY_API_IDEMPOTENCY_WINDOW_MS: "1000" must be a whole number from 60000 to 2592000000'],
    [{ DASY_OFFSET_MIRROR_INTERVAL_MS: '-1' }, 'DASY_OFFSET_MIRROR_INTERVAL_MS: "-1" must be a whole number from 0 to 60000'],
  ])('%j is refused with one line naming the variable', (env, message) => {
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toBe(message);
    expect((thrown as Error).message).not.toContain('\n');
  });
});

test('parseBrokers accepts IPv6 literals', () => {
  expect(parseBrokers('[::1]:9092')).toEqual(['[::1]:9092']);
});

test('parsePositiveInt', () => {
  expect(parsePositiveInt('CONSUMERS', undefined, 2)).toBe(2);
  expect(parsePositiveInt('CONSUMERS', '4', 2)).toBe(4);
  expect(() => parsePositiveInt('CONSUMERS', '0', 2)).toThrow('CONSUMERS: "0" must be a whole number from 1 to');
});

test('withDatabase swaps only the database name', () => {
  const url = withDatabase('postgres://u@h:5/dasy?sslmode=disable', 'other_db');
  expect(url).toBe('postgres://u@h:5/other_db?sslmode=disable');
  expect(databaseName(url)).toBe('other_db');
});

test('consumer tuning: for every part, or one part by name', () => {
  expect(
    loadConfig({ DASY_CONSUMER_TUNING: 'members=2, products-consumer.concurrency=4,product-count-consumer.maxBytesPerPartition=524288' }).consumerTuning,
  ).toEqual({
    '*': { members: 2 },
    'products-consumer': { concurrency: 4 },
    'product-count-consumer': { maxBytesPerPartition: 524288 },
  });
});

test("consumer tuning: a dataset's parts by name (underscores, and a dot before the aggregate's name)", () => {
  expect(
    loadConfig({ DASY_CONSUMER_TUNING: 'orders_2024-consumer.maxBytesPerPartition=65536,orders_2024.customer_totals-consumer.members=2' }).consumerTuning,
  ).toEqual({
    'orders_2024-consumer': { maxBytesPerPartition: 65536 },
    'orders_2024.customer_totals-consumer': { members: 2 },
  });
});

test('every setting is declared once, with a meaning; the variables are distinct', () => {
  const settings = describeSettings();
  expect(new Set(settings.map((s) => s.variable)).size).toBe(settings.length);
  for (const s of settings) expect(s.meaning.length).toBeGreaterThan(10);
  expect(settings.map((s) => s.variable)).toEqual(expect.arrayContaining(['DATABASE_URL', 'KAFKA_BROKERS', 'DASY_NAMESPACE', 'PORT', 'DASY_API_TOKEN']));
});
