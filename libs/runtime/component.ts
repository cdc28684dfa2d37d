import { DasyConfig } from '../config/settings';
import type { BatchConsumer } from '../consumer';
import { groupId, topicName, TopicId } from '../kafka/topics';
import { createLogger, Logger } from '../log';
import type { OpsServer } from '../metrics';
import { MetricsEndpoint } from './metrics-options';
import { parentPrepared, tellParent } from './messages';
import { exitWhenStopped, untilSignal } from './signals';

/** A runnable part's lifecycle: start (connect, join), stop (finish or abandon the work in flight). */
export interface Component {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** consumers: called with this process's partitions after every rebalance */
  onAssigned?(listener: (partitions: number[]) => void): void;
  /** consumers: the part's group members (its metrics observe them: --metrics-port) */
  readonly consumers?: BatchConsumer[];
  /** consumers: the group's full name, when the spec cannot say it (a declared dataset's, known once its spec is read) */
  readonly group?: string;
}

/**
 * What a part is to the rest of dasy: its name (the CLI command), what it consumes, how to make
 * it (with its own command-line options `O`). apps/components.ts declares every part.
 */
export interface ComponentSpec<O = object> {
  /** the CLI command and the application name its connections carry */
  name: string;
  description: string;
  /** a consumer's topic and group (`<ns>.<group>`): status, reset, the dashboard and metrics read these */
  consumes?: { topic: TopicId; group: string };
  /**
   * V8's old-space cap (MB) of this part: a supervisor forks it with the cap, and its own command,
   * started any other way, applies it to itself (apps/cli/own-caps.ts). Without one, V8 sizes the heap from
   * the machine's memory and lets garbage pile up (GBs on a large machine) before it collects; a
   * part whose working set is bounded by its fetch sizes can say what it needs.
   */
  heapMb?: number;
  create(context: { config: DasyConfig; logger: Logger }, options: O): Component | Promise<Component>;
}

/**
 * Run one part in this process until SIGTERM/SIGINT: prepare the namespace (unless the supervisor
 * that forked it did), create, start, report its partitions to the supervisor, stop, exit.
 * A part that ends without being told to (nothing left to wait on) says so and exits 1, so that
 * whoever supervises it restarts it, rather than leaving with 0 as if all were well.
 */
export async function runComponent<O>(
  spec: ComponentSpec<O>,
  options: O,
  context: {
    config: DasyConfig;
    logger: Logger;
    prepare: (config: DasyConfig, logger: Logger) => Promise<void>;
    /** serve the part's own metrics, /healthz and /readyz there (--metrics-port) */
    metrics?: MetricsEndpoint;
  },
): Promise<void> {
  const { config, logger } = context;
  if (!(config.preparedByParent && (await parentPrepared(60_000)))) await context.prepare(config, logger);
  const component = await spec.create({ config, logger }, options);
  const ops = context.metrics && (await serveMetrics(spec, component, { ...context, metrics: context.metrics }));
  let announced = false;
  component.onAssigned?.((partitions) => {
    tellParent({ type: 'assigned', partitions });
    // once, on stdout: a part started by hand (or a test) knows it has joined its group
    const group = component.group ?? (spec.consumes && groupId(config.namespace, spec.consumes.group));
    if (announced || !group) return;
    announced = true;
    console.log(`${spec.name} running in group ${group}, partitions ${partitions.join(',') || 'none'}`);
  });
  let signalled = false;
  const stopped = untilSignal([component], () => (signalled = true));
  const idledOut = () => {
    if (signalled) return;
    createLogger('dasy').error(`${spec.name} stopped on its own (no connection or timer left); exiting so that it can be restarted`);
    process.exit(1);
  };
  process.once('beforeExit', idledOut);
  if (process.channel) {
    process.channel.unref(); // the channel to the supervisor must not keep a stopped part alive
    // A supervisor that died (SIGKILLed) leaves no one to stop this part: it stops itself, as on SIGTERM.
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  }
  await component.start();
  await stopped;
  await ops?.close();
  process.off('beforeExit', idledOut);
  exitWhenStopped();
}

/** The part's own metrics endpoint, its consumers observed with their group and topic; says where, on stdout. */
async function serveMetrics<O>(
  spec: ComponentSpec<O>,
  component: Component,
  context: { config: DasyConfig; logger: Logger; metrics: MetricsEndpoint },
): Promise<OpsServer> {
  const { config, logger } = context;
  const consumes = spec.consumes;
  const consumers = consumes
    ? (component.consumers ?? []).map((consumer) => ({
        consumer,
        group: groupId(config.namespace, consumes.group),
        topic: topicName(config.namespace, consumes.topic),
      }))
    : [];
  // prom-client is loaded by the processes that serve metrics only
  const { serveProcessMetrics } = await import('../metrics');
  const server = await serveProcessMetrics({ config, logger, name: spec.name, consumers, ...context.metrics });
  console.log(`${spec.name} metrics on ${server.url}/metrics`);
  return server;
}
