import type { Component } from './component';

/**
 * A relay and the consumers that follow it, as one component (what ingest, delete and rebuild fork
 * for an aggregate's recounts: products' `product-count`, a dataset's `dataset-aggregates`). Each is
 * a hop with no work before the rows are applied, so they share one process and one runtime. The
 * relay starts first: its drain waits for nothing, and the recounts' joins must not delay it. They
 * stop together, each finishing or abandoning its own work.
 */
export function relayAndRecounts(relay: Component, recounts: Component[]): Component {
  return {
    consumers: recounts.flatMap((r) => r.consumers ?? []),
    async start() {
      await relay.start();
      await Promise.all(recounts.map((r) => r.start()));
    },
    async stop() {
      await Promise.all([relay.stop(), ...recounts.map((r) => r.stop())]);
    },
  };
}
