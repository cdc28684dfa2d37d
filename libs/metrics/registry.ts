import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * Buckets of the duration histograms, in seconds: from a millisecond (a push applied at once) to
 * half a minute (a large batch on a busy machine).
 */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * A process's metrics registry (prom-client). Every series carries the `namespace` label; with
 * `processMetrics` (the default) it also has prom-client's default metrics under their usual
 * names (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, nodejs_heap_size_used_bytes,
 * ...), so Node.js dashboards work as they are.
 */
export function createRegistry(namespace: string, options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ namespace });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** One bundle of metrics per registry, made at its first use (several parts of a process share it). */
export function perRegistry<T>(make: (registry: Registry) => T): (registry: Registry) => T {
  const made = new WeakMap<Registry, T>();
  return (registry) => {
    let bundle = made.get(registry);
    if (!bundle) made.set(registry, (bundle = make(registry)));
    return bundle;
  };
}
