/** Prometheus metrics (prom-client) and health endpoints: registries, consumer metrics, readiness, the ops server. */
export { createRegistry, perRegistry, SECONDS_BUCKETS } from './registry';
export { Membership, observeConsumers } from './consumer';
export type { ObservedConsumer } from './consumer';
export { CHECK_TIMEOUT_MS, consumersJoined, kafkaAnswers, postgresAnswers, readiness } from './health';
export type { Check, Readiness } from './health';
export { opsAnswers, serveOps } from './server';
export type { Ops, OpsServer } from './server';
export { serveProcessMetrics } from './process';
