import {
  KafkaJSBrokerNotFound,
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSLockTimeout,
  KafkaJSMetadataNotLoaded,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { KafkaError } from '../errors';

/** The client's errors that mean the cluster is not reachable or not ready (yet), whatever their own flag says. */
const UNAVAILABLE = [
  KafkaJSConnectionError,
  KafkaJSRequestTimeoutError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSBrokerNotFound,
  KafkaJSLockTimeout,
  KafkaJSMetadataNotLoaded,
];

/**
 * The port's boundary for errors: a kafkajs error becomes dasy's KafkaError, decided once here from
 * its class, its own `retriable` flag and the protocol's error type (never its message); any other
 * value (dasy's own errors thrown through the client, a bug) passes unchanged.
 */
export function fromClientError(err: unknown): unknown {
  if (!(err instanceof KafkaJSError) || err instanceof KafkaError) return err;
  return new KafkaError(err.message, { cause: err, retriable: unavailable(err), type: protocolType(err) });
}

function unavailable(err: KafkaJSError): boolean {
  if (UNAVAILABLE.some((cls) => err instanceof cls)) return true;
  // leadership moving, coordinator loading, not enough replicas...: the protocol's own retriable codes
  if (err instanceof KafkaJSProtocolError) return err.retriable;
  // KafkaJSNoBrokerAvailableError (not in kafkajs's types), a non-retriable wrapper...: by their cause, else their own flag
  if (err.cause instanceof KafkaJSError) return unavailable(err.cause);
  return err.retriable;
}

function protocolType(err: KafkaJSError): string | undefined {
  if (err instanceof KafkaJSProtocolError) return err.type;
  return err.cause instanceof KafkaJSError ? protocolType(err.cause) : undefined;
}

/** `fn`'s rejection (or throw) as fromClientError makes it. */
export async function mapped<R>(fn: () => Promise<R>): Promise<R> {
  try {
    return await fn();
  } catch (err) {
    throw fromClientError(err);
  }
}

/**
 * The same object, every method of it answering with dasy's errors (for the client's admin and
 * producer, whose every method is a request).
 */
export function withClientErrors<T extends object>(target: T): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(obj, args);
          if (!(result instanceof Promise)) return result;
          return result.catch((err: unknown) => {
            throw fromClientError(err);
          });
        } catch (err) {
          throw fromClientError(err);
        }
      };
    },
  });
}
