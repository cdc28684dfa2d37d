import { optional, parseInteger } from './parse';
import { loadSettings, setting, Setting } from './settings';

type Env = Record<string, string | undefined>;

/**
 * The settings only the development tools read (`make chaos`, `make bench`: dev/main.ts, and the
 * tests), declared like the product's (settings.ts) but apart from them: the shipped `dasy` never
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
} as const satisfies Record<string, Setting<unknown>>;

export type DevConfig = { [K in keyof typeof DEV_SETTINGS]: ReturnType<(typeof DEV_SETTINGS)[K]['parse']> };

/** The development settings from the environment, validated like the product's. */
export function loadDevConfig(env: Env = process.env): DevConfig {
  return loadSettings(DEV_SETTINGS, env);
}
