import { ConfigError } from '../errors';
import { describeSettings, DEV_SETTINGS, loadConfig, loadDevConfig, SETTINGS } from './index';

describe('loadDevConfig', () => {
  test('defaults when nothing is set', () => {
    expect(loadDevConfig({})).toEqual({
      kafkaPortBase: 9090,
      kafkaStackDir: undefined,
      kafkaHeap: undefined,
      chaosClusterPortBase: 19190,
      testBrokerPortBase: 19490,
      testApiBrokerPortBase: 19800,
      testApiOutageMs: 60000,
      testPgPort: 19540,
      testPgBin: '/usr/lib/postgresql/15/bin',
      fuzzRuns: undefined,
      fuzzSeed: 15,
    });
  });

  test('reads every variable', () => {
    expect(
      loadDevConfig({
        KAFKA_PORT_BASE: '29090',
        KAFKA_STACK_DIR: '/tmp/k',
        KAFKA_HEAP: '-Xmx512m',
        DASY_CHAOS_CLUSTER_PORT_BASE: '20000',
        DASY_TEST_BROKER_PORT_BASE: '21000',
        DASY_TEST_API_BROKER_PORT_BASE: '22000',
        DASY_TEST_API_OUTAGE_MS: '20000',
        DASY_TEST_PG_PORT: '23000',
        DASY_TEST_PG_BIN: '/opt/pg/bin',
        DASY_FUZZ_RUNS: '5000',
        DASY_FUZZ_SEED: '7',
      }),
    ).toEqual({
      kafkaPortBase: 29090,
      kafkaStackDir: '/tmp/k',
      kafkaHeap: '-Xmx512m',
      chaosClusterPortBase: 20000,
      testBrokerPortBase: 21000,
      testApiBrokerPortBase: 22000,
      testApiOutageMs: 20000,
      testPgPort: 23000,
      testPgBin: '/opt/pg/bin',
      fuzzRuns: 5000,
      fuzzSeed: 7,
    });
  });

  test.each([
    [{ KAFKA_PORT_BASE: '80' }, 'KAFKA_PORT_BASE: "80" must be a whole number from 1024 to 65000'],
    [{ DASY_CHAOS_CLUSTER_PORT_BASE: 'x' }, 'DASY_CHAOS_CLUSTER_PORT_BASE: "x" must be a whole number from 1024 to 65000'],
    [{ DASY_TEST_PG_PORT: '70000' }, 'DASY_TEST_PG_PORT: "70000" must be a whole number from 1024 to 65535'],
    [{ DASY_FUZZ_RUNS: '0' }, 'DASY_FUZZ_RUNS: "0" must be a whole number from 1 to 100000000'],
  ])('%j is refused with one line naming the variable', (env, message) => {
    let thrown: unknown;
    try {
      loadDevConfig(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toBe(message);
  });

  test('the product neither reads nor lists a development setting', () => {
    const dev = Object.values(DEV_SETTINGS).map((s) => s.variable);
    const product = Object.values(SETTINGS).map((s) => s.variable);
    expect(product.filter((v) => dev.includes(v))).toEqual([]);
    expect(Object.keys(loadConfig({})).filter((k) => k in DEV_SETTINGS)).toEqual([]);
    expect(describeSettings(DEV_SETTINGS).map((s) => s.variable)).toEqual([
      'KAFKA_PORT_BASE',
      'KAFKA_STACK_DIR',
      'KAFKA_HEAP',
      'DASY_CHAOS_CLUSTER_PORT_BASE',
      'DASY_TEST_BROKER_PORT_BASE',
      'DASY_TEST_API_BROKER_PORT_BASE',
      'DASY_TEST_API_OUTAGE_MS',
      'DASY_TEST_PG_PORT',
      'DASY_TEST_PG_BIN',
      'DASY_FUZZ_RUNS',
      'DASY_FUZZ_SEED',
    ]);
  });
});
