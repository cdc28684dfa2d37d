import { Pool } from 'pg';
import { ApiApp } from './app';
import { EventSender } from './event-sender';
import { encode } from './messages';
import { Reply } from './reply';
import { adStatistics } from './store';
import { AdRequest, validateAdRequest, validateStatistics } from './validate';
import { fetchUpstreamVast, SAMPLE_VAST } from './vast';

export interface AdRoutesDeps {
  pool: Pool;
  sender: EventSender;
  /** <ns>.ad-events */
  topic: string;
  /** how long Kafka may take to acknowledge an ad event before a 503 */
  pushTimeoutMs: number;
  adUpstreamUrl?: string;
  upstreamTimeoutMs: number;
}

/** The ad requests of DESIGN.md §7: /ad and /impression counted through Kafka, /statistics read back. */
export function registerAdRoutes(app: ApiApp, deps: AdRoutesDeps): void {
  const adEvent = async (type: 'ad' | 'impression', q: AdRequest) => {
    const at = Date.now();
    return deps.sender.send(deps.topic, q.username, encode({ type, ...q, at }), at + deps.pushTimeoutMs);
  };

  app.get('/ad', async ({ query }) => {
    const q = validateAdRequest(query);
    // Count the request and ask the upstream at the same time; an upstream failure is still an
    // ad request (an unfilled one), so it counts.
    const [counted, vast] = await Promise.allSettled([
      adEvent('ad', q),
      deps.adUpstreamUrl ? fetchUpstreamVast(deps.adUpstreamUrl, deps.upstreamTimeoutMs) : Promise.resolve(undefined),
    ]);
    if (counted.status === 'rejected') throw counted.reason;
    if (vast.status === 'rejected') throw vast.reason;
    if (!vast.value) return new Reply(200, SAMPLE_VAST, 'application/xml; charset=utf-8');
    return new Reply(200, vast.value.body, vast.value.contentType);
  });

  app.get('/impression', async ({ query }) => {
    await adEvent('impression', validateAdRequest(query));
    return { status: 'ok' };
  });

  app.get('/statistics', async ({ query }) => {
    const f = validateStatistics(query);
    return adStatistics(deps.pool, f.filter, f.value);
  });
}
