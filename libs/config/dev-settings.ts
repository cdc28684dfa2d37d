import { optional, parseInteger } from './parse';
import { loadSettings, setting, Setting } from './settings';

type Env = Record<string, string | undefined>;

/**
 * The settings only the development tools read (`make chaos`, `make bench`: dev/main.ts) and the
 * tests, declared like the product's (settings.ts) but apart from them: the shipped `dasy` never
 * reads them, and `dasy settings` does not list them (`node dist/dev/main.js settings` does).
 * The KAFKA_* ones are infra/stack.sh's own variables (it reads them itself); chaos reads them to
 * find and restart the broker `make up` started.
 */
export const DEV_SETTINGS = {
  kafkaPortBase: setting('KAFKA_PORT_BASE', '9090', 'local stack: node n listens on base+2n (clients) and base+2n+1 (controllers)', (v) =>
    parseInteger('KAFKA_PORT_BASE', optional(v) ?? '9090', 1024, 65000),
  ),
  kafkaStackDir: setting('KAFKA_STACK_DIR', '', 'local stack: the Kafka data folder (default .stack/kafka)', optional),
  kafkaHeap: setting('KAFKA_HEAP', '-Xms256m -Xmx1g', "local stack: the broker's JVM heap options", optional),
  chaosClusterPortBase: setting('DASY_CHAOS_CLUSTER_PORT_BASE', '19190', "make chaos: the three-broker cluster's port base", (v) =>
    parseInteger('DASY_CHAOS_CLUSTER_PORT_BASE', optional(v) ?? '19190', 1024, 65000),
  ),
  // the tests' own: private peers on ports of their own (never the shared stack), longer fuzz hunts
  testBrokerPortBase: setting(
    'DASY_TEST_BROKER_PORT_BASE',
    '19490',
    "tests: the private broker's port base (faults-broker; faults-outage-transactions 20 above)",
    (v) => parseInteger('DASY_TEST_BROKER_PORT_BASE', optional(v) ?? '19490', 1024, 65000),
  ),
  testApiBrokerPortBase: setting('DASY_TEST_API_BROKER_PORT_BASE', '19800', "tests: api-outage's private broker's port base", (v) =>
    parseInteger('DASY_TEST_API_BROKER_PORT_BASE', optional(v) ?? '19800', 1024, 65000),
  ),
  testApiOutageMs: setting('DASY_TEST_API_OUTAGE_MS', '60000', 'tests: how long api-outage stops its broker (ms)', (v) =>
    parseInteger('DASY_TEST_API_OUTAGE_MS', optional(v) ?? '60000', 1, 3_600_000),
  ),
  testPgPort: setting('DASY_TEST_PG_PORT', '19540', "tests: the private PostgreSQL cluster's port (durable-answers)", (v) =>
    parseInteger('DASY_TEST_PG_PORT', optional(v) ?? '19540', 1024, 65535),
  ),
  testPgBin: setting(
    'DASY_TEST_PG_BIN',
    '/usr/lib/postgresql/15/bin',
    "tests: the folder of PostgreSQL's programs for the private cluster",
    (v) => optional(v) ?? '/usr/lib/postgresql/15/bin',
  ),
  fuzzRuns: setting('DASY_FUZZ_RUNS', '', 'tests: cases per property of the property and fuzz tests (unset: each its own bounded number)', (v) =>
    optional(v) === undefined ? undefined : parseInteger('DASY_FUZZ_RUNS', v!, 1, 100_000_000),
  ),
  fuzzSeed: setting('DASY_FUZZ_SEED', '15', 'tests: the seed of the property and fuzz tests', (v) =>
    parseInteger('DASY_FUZZ_SEED', optional(v) ?? '15', 1, 2 ** 31 - 1),
  ),
} as const satisfies Record<string, Setting<unknown>>;

export type DevConfig = { [K in keyof typeof DEV_SETTINGS]: ReturnType<(typeof DEV_SETTINGS)[K]['parse']> };

/** The development settings from the environment, validated like the product's. */
export function loadDevConfig(env: Env = process.env): DevConfig {
  return loadSettings(DEV_SETTINGS, env);
}
