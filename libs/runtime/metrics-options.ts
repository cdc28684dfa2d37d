import { Option } from 'commander';
import { intOption } from '../config/cli';

/** Where a part serves its own metrics, /healthz and /readyz. */
export interface MetricsEndpoint {
  port: number;
  host: string;
}

/**
 * `--metrics-port <port>` and `--metrics-host <host>` of a long-running part's command (off by
 * default): `.addOption(metricsPortOption()).addOption(metricsHostOption())`.
 */
export const metricsPortOption = () =>
  new Option('--metrics-port <port>', "serve this part's metrics, /healthz and /readyz on this port (0: any free port)").argParser(
    intOption('--metrics-port', 0, 65535),
  );
export const metricsHostOption = () => new Option('--metrics-host <host>', 'address the metrics port listens on').default('127.0.0.1');

export type MetricsOptions = { metricsPort?: number; metricsHost?: string };

/** Where to serve, if asked; `replica`: the i-th of several processes one command starts listens on port + i. */
export function metricsEndpoint(opts: MetricsOptions, replica = 0): MetricsEndpoint | undefined {
  if (opts.metricsPort === undefined) return undefined;
  return { port: opts.metricsPort === 0 ? 0 : opts.metricsPort + replica, host: opts.metricsHost ?? '127.0.0.1' };
}

/** The same options for a forked replica (the CLI arguments). */
export function metricsArgs(endpoint: MetricsEndpoint | undefined): string[] {
  return endpoint ? ['--metrics-port', String(endpoint.port), '--metrics-host', endpoint.host] : [];
}
