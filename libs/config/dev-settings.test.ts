import { ConfigError } from '../errors';
import { describeSettings, DEV_SETTINGS, loadConfig, loadDevConfig, SETTINGS } from './index';

describe('loadDevConfig', () => {
  test('defaults when nothing is set', () => {
    expect(loadDevConfig({})).toEqual({ kafkaPortBase: 9090, kafkaStackDir: undefined, kafkaHeap: undefined, chaosClusterPortBase: 19190 });
  });

  test('reads every variable', () => {
    expect(loadDevConfig({ KAFKA_PORT_BASE: '29090', KAFKA_STACK_DIR: '/tmp/k', KAFKA_HEAP: '-Xmx512m', DASY_CHAOS_CLUSTER_PORT_BASE: '20000' })).toEqual({
      kafkaPortBase: 29090,
      kafkaStackDir: '/tmp/k',
      kafkaHeap: '-Xmx512m',
      chaosClusterPortBase: 20000,
    });
  });

  test.each([
    [{ KAFKA_PORT_BASE: '80' }, 'KAFKA_PORT_BASE: "80" must be a whole number from 1024 to 65000'],
    [{ DASY_CHAOS_CLUSTER_PORT_BASE: 'x' }, 'DASY_CHAOS_CLUSTER_PORT_BASE: "x" must be a whole number from 1024 to 65000'],
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
    expect(describeSettings(DEV_SETTINGS).map((s) => s.variable)).toEqual(['KAFKA_PORT_BASE', 'KAFKA_STACK_DIR', 'KAFKA_HEAP', 'DASY_CHAOS_CLUSTER_PORT_BASE']);
  });
});
