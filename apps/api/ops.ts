import { IncomingMessage, ServerResponse } from 'http';
import { Kafka } from '../../libs/kafka/port';
import { Pool } from 'pg';
import { Histogram, Registry } from 'prom-client';
import { DasyConfig } from '../../libs/config';
import { Logger } from '../../libs/log';
import {
  consumersJoined,
  createRegistry,
  kafkaAnswers,
  observeConsumers,
  ObservedConsumer,
  Ops,
  opsAnswers,
  perRegistry,
  postgresAnswers,
  readiness,
  SECONDS_BUCKETS,
} from '../../libs/metrics';
import { clusterMetrics } from '../metrics/exporter';
import { ClusterSource, ConsumedGroup } from '../metrics/source';
import { ApiApp } from './app';
import { AppliedTracker } from './applied';
import { Reply } from './reply';
import { within } from './within';

/** The routes whose requests are timed, by path (the event routes). */
const TIMED_ROUTES: Record<string, string> = { '/api/push': 'POST', '/api/push/batch': 'POST', '/ad': 'GET', '/impression': 'GET' };

/**
 * The api's operations endpoints: `GET /metrics` (the cluster's series as `dasy metrics` has
 * them, this process's consumers, request latencies by route and status, how long pushes wait to
 * be applied, the process's own) and `GET /readyz` (its consumers joined their groups, PostgreSQL
 * and Kafka answer). `GET /healthz`, liveness, is the server's own (server.ts).
 */
export async function registerOps(
  app: ApiApp,
  deps: {
    config: DasyConfig;
    kafka: Kafka;
    pool: Pool;
    logger: Logger;
    tracker: AppliedTracker;
    /** this process's consumers, with their group and topic */
    consumers: ObservedConsumer[];
    /** every consumer group of the namespace (apps/components.ts) */
    groups: ConsumedGroup[];
  },
): Promise<void> {
  const registry = createRegistry(deps.config.namespace);
  const admin = deps.kafka.admin();
  clusterMetrics(registry, new ClusterSource({ pool: deps.pool, admin, namespace: deps.config.namespace, groups: deps.groups, logger: deps.logger }));
  const memberships = observeConsumers(registry, deps.consumers);
  const own = apiMetrics(registry);
  timeRequests(app, own.requests);
  deps.tracker.observeWaits((seconds) => own.applied.observe(seconds));
  const checks = {
    postgresql: postgresAnswers(deps.pool),
    kafka: kafkaAnswers(admin),
    ...(memberships.length ? { consumers: consumersJoined(memberships) } : {}),
  };
  const ops: Ops = { registry, ready: () => readiness(checks) };
  app.get('/metrics', async () => {
    const m = await opsAnswers.metrics(ops);
    return new Reply(m.status, m.body, m.type);
  });
  app.get('/readyz', async () => {
    const r = await opsAnswers.readyz(ops);
    return new Reply(r.status, r.body);
  });
  app.onClosed(async () => {
    await within(500, admin.disconnect()); // Kafka may be down
  });
}

/** The api's own series (besides the cluster's and its consumers'). */
export const apiMetrics = perRegistry((registry: Registry) => ({
  requests: new Histogram({
    name: 'dasy_api_request_duration_seconds',
    help: 'api requests of the event routes (push, ad, impression): latency, and count by status (_count)',
    labelNames: ['route', 'status'],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  }),
  applied: new Histogram({
    name: 'dasy_api_push_applied_seconds',
    help: "from Kafka's acknowledgment of a push (or reset) to this api seeing it applied by the scores consumer",
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  }),
}));

/**
 * Request latency and count by status of the event routes, from the request's arrival to its
 * answer's last byte (or the client going away: status "aborted"), whichever path answers it.
 */
function timeRequests(app: ApiApp, requests: Histogram<'route' | 'status'>) {
  for (const route of Object.keys(TIMED_ROUTES)) requests.zero({ route, status: '200' });
  // before the server's own listener: the clock starts when the request arrives
  app.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const route = (req.url ?? '').split('?')[0];
    if (TIMED_ROUTES[route] !== req.method) return;
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const status = res.writableFinished ? String(res.statusCode) : 'aborted';
      requests.observe({ route, status }, Number(process.hrtime.bigint() - started) / 1e9);
    });
  });
}
