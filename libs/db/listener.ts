import { Client } from 'pg';
import { errorMessage } from '../errors';
import { Logger } from '../log';
import { Backoff } from '../resilience/backoff';
import { outageNotice, OutageNotice } from '../resilience/outage';
import { quoteIdent } from './index';

/**
 * One dedicated LISTEN connection on a channel (PostgreSQL delivers a NOTIFY on commit only),
 * re-established with backoff when lost. `onConnected` runs after every (re)connect, once LISTEN
 * took effect: whatever was committed while it was down is read from the tables there, so a
 * missed notification is never waited for.
 */
export interface Listener {
  readonly connected: boolean;
  stop(): Promise<void>;
}

export function listen(options: {
  databaseUrl: string;
  channel: string;
  applicationName: string;
  logger: Logger;
  onNotification(payload: string): void;
  onConnected?(): Promise<void>;
  /** say a lost connection once, and its return (warn), in these words; otherwise debug only (a part that also polls) */
  announce?: { down(reason: string): string; up: string };
}): Listener {
  const log = options.logger;
  const notice: OutageNotice | undefined = options.announce ? outageNotice(log, 'the LISTEN connection', 0, 0, options.announce) : undefined;
  const backoff = new Backoff({ initialMs: 100 });
  let client: Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const lost = (dead: Client, err?: Error) => {
    if (client !== dead) return;
    client = undefined;
    dead.end().catch(() => undefined);
    if (stopped) return;
    if (notice) notice.failed(err ? errorMessage(err) : 'connection ended');
    else log.debug('lost the LISTEN connection; reconnecting', { err: err && errorMessage(err) });
    schedule();
  };

  const connect = async () => {
    const next = new Client({ connectionString: options.databaseUrl, keepAlive: true, application_name: options.applicationName });
    next.on('notification', (n) => n.channel === options.channel && n.payload && options.onNotification(n.payload));
    next.on('error', (err) => lost(next, err));
    next.on('end', () => lost(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${quoteIdent(options.channel)}`);
    } catch (err) {
      next.removeAllListeners('end');
      await next.end().catch(() => undefined);
      throw err;
    }
    if (stopped) return void (await next.end().catch(() => undefined));
    client = next;
    await options.onConnected?.();
    backoff.reset();
    notice?.ok();
  };

  const schedule = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect().catch((err) => {
        log.debug(`LISTEN reconnect failed: ${errorMessage(err)}`);
        schedule();
      });
    }, backoff.next());
    timer.unref();
  };

  connect().catch((err) => {
    log.debug(`LISTEN failed: ${errorMessage(err)}`);
    schedule();
  });
  return {
    get connected() {
      return client !== undefined;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
