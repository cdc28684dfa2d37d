import { Client, ClientConfig, DatabaseError, Pool, PoolClient } from 'pg';
import { DasyError, errorMessage, UnavailableError } from '../errors';
import { withSchema } from './identifiers';

export type { Pool, PoolClient };

/**
 * The boundary where PostgreSQL's failures are classified (libs/errors/classify.ts): the server's
 * answers are DatabaseErrors with a SQLSTATE; anything else the driver raises (a connection
 * terminated, refused or timed out: pg gives those no code) means the server cannot be talked to
 * now, and becomes an UnavailableError for PostgreSQL here, once, instead of being recognised by
 * its message wherever it lands.
 */
export function asDbError(err: unknown): unknown {
  if (err instanceof DatabaseError || err instanceof DasyError) return err;
  // a TypeError or RangeError is a bug of the caller, not an outage
  if (err instanceof Error && err.constructor !== Error && !('syscall' in err)) return err;
  return new UnavailableError(`PostgreSQL: ${errorMessage(err)}`, err, 'postgresql');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's methods are overloaded; this wraps any of them
type AnyFn = (...args: any[]) => unknown;

/** fn with asDbError applied to its failures, in both of pg's styles (callback last, or a promise). */
function classifying(fn: AnyFn): AnyFn {
  return function (this: unknown, ...args: unknown[]) {
    const last = args.length - 1;
    if (last >= 0 && typeof args[last] === 'function') {
      const callback = args[last] as AnyFn;
      args[last] = (err: unknown, ...rest: unknown[]) => callback(err ? asDbError(err) : err, ...rest);
      return fn.apply(this, args);
    }
    const result = fn.apply(this, args);
    return result instanceof Promise
      ? result.catch((err: unknown) => {
          throw asDbError(err);
        })
      : result;
  };
}

/** pg's Client, whose connect and query failures are classified (pg-pool's `Client` option). */
class ClassifyingClient extends Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    this.connect = classifying(this.connect.bind(this)) as Client['connect'];
    this.query = classifying(this.query.bind(this)) as Client['query'];
  }
}

export interface PoolOptions {
  databaseUrl: string;
  /**
   * The pool works in the namespace's schema (withSchema), so the SQL of the apps names its tables
   * unqualified; null for work on the server itself (creating a database).
   */
  namespace: string | null;
  max?: number;
  applicationName?: string;
  /**
   * DASY_PG_IDLE_IN_TRANSACTION_MS (config.pgIdleInTransactionMs): every session of the pool has
   * it as its idle_in_transaction_session_timeout, so a client stuck inside a transaction cannot
   * hold back VACUUM for the database; 0 leaves the server's own setting.
   */
  idleInTransactionMs: number;
}

export function createPool(options: PoolOptions): Pool {
  const pool = new Pool({
    connectionString: options.namespace === null ? options.databaseUrl : withSchema(options.databaseUrl, options.namespace),
    max: options.max ?? 4,
    application_name: options.applicationName ?? 'dasy',
    // sent with the connection's startup (not a statement more); 0 is not sent
    idle_in_transaction_session_timeout: options.idleInTransactionMs,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    Client: ClassifyingClient,
  });
  // pg-pool's own failures (a connection timeout while waiting for a client) are classified too
  pool.connect = classifying(pool.connect.bind(pool)) as Pool['connect'];
  pool.query = classifying(pool.query.bind(pool)) as Pool['query'];
  // An idle client losing its server (PostgreSQL restart) must not crash the process; the next
  // query gets a fresh connection and the caller's retry handles it.
  pool.on('error', () => undefined);
  // A client checked out of the pool has no error listener (pg-pool removes its own): a server
  // going away mid-transaction would be an unhandled 'error' event, a crash. Its query fails
  // with the error anyway, which the caller retries; the dead client is not reused.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
