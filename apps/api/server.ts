import { Pool } from 'pg';
import { errorMessage } from '../../libs/errors';
import { Logger } from '../../libs/log';
import { registerAdRoutes } from './ad-routes';
import { ApiApp, createApiApp } from './app';
import { AppliedTracker } from './applied';
import { authorizer } from './authorize';
import { registerCatalog } from './catalog';
import { registerDatasets } from './datasets';
import { EventSender } from './event-sender';
import { HttpTimeouts } from './http-server';
import { EventProducer } from './producer';
import { PushBatches } from './push-batch';
import { registerScoreRoutes } from './score-routes';
import { ScoreRequests } from './score-requests';
import { ScoreWrites } from './score-writes';

export interface ApiDeps {
  pool: Pool;
  producer: EventProducer;
  tracker: AppliedTracker;
  logger: Logger;
  topics: { scores: string; adEvents: string };
  apiToken?: string;
  adUpstreamUrl?: string;
  /** how long a push (or reset) waits to be applied before answering 503 */
  pushTimeoutMs?: number;
  upstreamTimeoutMs?: number;
  /** whether this process runs the consumers (shown by /healthz) */
  consumers?: boolean;
  /** how long slow clients may take (libs/config: DASY_API_*_TIMEOUT_MS) */
  timeouts: HttpTimeouts;
  /** how long an Idempotency-Key is remembered (DASY_API_IDEMPOTENCY_WINDOW_MS) */
  idempotencyWindowMs?: number;
}

/**
 * The HTTP api of DESIGN.md §7. Every error reaches the client as
 * `{"error":{"code","message","field"}}`; details (stacks, causes) stay in the log.
 */
export function buildServer(deps: ApiDeps): ApiApp {
  const log = deps.logger.namespace('api');
  const pushTimeoutMs = deps.pushTimeoutMs ?? 5000;
  const upstreamTimeoutMs = deps.upstreamTimeoutMs ?? 2000;
  const app = createApiApp(log, deps.timeouts, pushTimeoutMs + upstreamTimeoutMs);
  const authorize = authorizer(deps.apiToken);
  const sender = new EventSender(deps.producer, log, pushTimeoutMs);
  const requests = new ScoreRequests(deps.pool, deps.idempotencyWindowMs ?? 86_400_000);
  const scores = new ScoreWrites({ pool: deps.pool, tracker: deps.tracker, sender, requests, topic: deps.topics.scores, log, pushTimeoutMs });
  const batches = new PushBatches({ scores, requests, log, pushTimeoutMs });
  purgeRequests(app, requests, log);

  // at stop, events Kafka has not acknowledged are given up within 1 s (a Kafka outage)
  app.onStopping(() => sender.hurry(1000));

  app.get('/healthz', () => ({ status: 'ok', consumers: deps.consumers ?? false, listening: deps.tracker.listening() }));
  registerScoreRoutes(app, { pool: deps.pool, scores, batches, authorize });
  registerAdRoutes(app, { pool: deps.pool, sender, topic: deps.topics.adEvents, pushTimeoutMs, adUpstreamUrl: deps.adUpstreamUrl, upstreamTimeoutMs });
  registerCatalog(app, deps.pool);
  registerDatasets(app, deps.pool);
  return app;
}

/** Expired requests (score-requests.ts) are deleted every minute, by every api process (a no-op when another did). */
function purgeRequests(app: ApiApp, requests: ScoreRequests, log: Logger) {
  const timer = setInterval(() => {
    requests.purge().catch((err) => log.debug(`purging expired requests failed: ${errorMessage(err)}`));
  }, 60_000);
  timer.unref();
  app.onClosed(() => clearInterval(timer));
}
