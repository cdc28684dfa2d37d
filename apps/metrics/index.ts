import { DasyConfig } from '../../libs/config';
import { Logger } from '../../libs/log';
import type { OpsServer } from '../../libs/metrics';
import { Component } from '../../libs/runtime';
import type { ConsumedGroup } from './source';

export type { ConsumedGroup } from './source';

export interface ExporterOptions {
  port: number;
  host: string;
}

/** The default port of `dasy metrics` (the Prometheus exporters' range). */
export const METRICS_PORT = 9464;

/**
 * The exporter as a part (apps/components.ts): serves from its start until it is stopped, and
 * says where once it listens. prom-client and the metrics' code load when it starts, not before.
 */
export function exporterComponent(context: { config: DasyConfig; logger: Logger }, options: ExporterOptions, groups: ConsumedGroup[]): Component {
  let server: OpsServer | undefined;
  return {
    async start() {
      const { serveExporter } = await import('./serve');
      server = await serveExporter({ ...context, groups, ...options });
      console.log(`metrics listening on ${server.url}/metrics`);
    },
    async stop() {
      await server?.close();
    },
  };
}
