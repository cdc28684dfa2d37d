/**
 * A small error hierarchy (after kafkajs): every error says whether retrying the same work can
 * succeed (`retriable`) and keeps what caused it (`cause`), so callers decide by flag, not by message.
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

/** A dependency (Kafka, PostgreSQL) is unreachable for now. */
export class UnavailableError extends DasyError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause, retriable: true });
  }
}

/** The input file itself cannot be ingested (no header, missing columns). */
export class InputError extends DasyError {}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
