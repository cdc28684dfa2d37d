/**
 * A small error hierarchy (after kafkajs): every error says whether retrying the same work can
 * succeed (`retriable`) and keeps what caused it (`cause`), so callers decide by flag, not by message.
 * Errors of the client libraries are turned into a Failure once, by class and code (classify.ts).
 */
export class DasyError extends Error {
  readonly retriable: boolean;
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** A configuration value is unusable: the program stops at start with this one line. */
export class ConfigError extends DasyError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

/** A message can never be applied (bad payload): it goes to the dead-letter topic. */
export class PoisonMessageError extends DasyError {}

/** Another consumer advanced the partition first: this batch must not commit. */
export class FencedError extends DasyError {
  constructor(message: string) {
    super(message, { retriable: true });
  }
}

export type Service = 'kafka' | 'postgresql';

/** A dependency (Kafka, PostgreSQL) is unreachable for now. */
export class UnavailableError extends DasyError {
  readonly service: Service | undefined;
  constructor(message: string, cause?: unknown, service?: Service) {
    super(message, { cause, retriable: true });
    this.service = service;
  }
}

/**
 * An error of the Kafka client, made at the port's boundary (libs/kafka/errors.ts) from the
 * client's own: `retriable` says whether the cluster is unreachable or not ready (yet) and trying
 * again later can succeed; `type` is the protocol's error name when the broker answered with one
 * (e.g. NOT_LEADER_OR_FOLLOWER, TOPIC_ALREADY_EXISTS). The client's error is its `cause`.
 */
export class KafkaError extends DasyError {
  readonly type: string | undefined;
  constructor(message: string, options: { cause: unknown; retriable: boolean; type?: string }) {
    super(message, { cause: options.cause, retriable: options.retriable });
    this.type = options.type;
  }
}

/** The input file itself cannot be ingested (no header, missing columns). */
export class InputError extends DasyError {}

/** A component was stopped while this work was in flight: nothing of it was committed. */
export class StoppedError extends DasyError {}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
