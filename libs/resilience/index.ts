/**
 * Waiting out failures, below every other lib that talks to a server: retries with full-jitter
 * backoff, an outage said once and its end once, a sleep that can be cut short. It imports only
 * libs/errors and libs/log, so libs/db, libs/kafka, libs/consumer and libs/runtime all build on it.
 */
export { Backoff, retry, sleep } from './backoff';
export type { RetryOptions } from './backoff';
export { outageNotice } from './outage';
export type { OutageNotice } from './outage';
export { Alarm } from './alarm';
