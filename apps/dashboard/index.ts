import { errorMessage } from '../../libs/errors';
import type { ApiApp } from '../api/app';
import type { ApiContext } from '../api/command';
import { within } from '../api/within';
import { registerDashboard } from './plugin';
import { DashboardSource } from './source';

/** Adds the dashboard to the api's server (`extend` of runApi); it stops with the server. */
export async function dashboardExtension(app: ApiApp, ctx: ApiContext): Promise<void> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  const source = new DashboardSource({ kafka: ctx.kafka, admin, pool: ctx.pool, namespace: ctx.config.namespace, logger: ctx.logger });
  registerDashboard(app, source);
  app.onReady(() => {
    source.startRejectsTail().catch((err) => ctx.logger.warn('dashboard: cannot tail the rejects topic', { err: errorMessage(err) }));
  });
  app.onClosed(async () => {
    // bounded: with Kafka down the tail's disconnect and its group's deletion would retry for ever
    await within(
      1000,
      source.stop().then(() => admin.disconnect()),
    );
  });
}
