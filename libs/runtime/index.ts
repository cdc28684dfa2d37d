/** The component runtime: lifecycle, supervision, retries and backoff, outage notices, signals (see ARCHITECTURE.md). */
export { Backoff, retry, sleep } from './backoff';
export type { RetryOptions } from './backoff';
export { runComponent } from './component';
export type { Component, ComponentSpec } from './component';
export { installLastResortHandlers, partName, runMain } from './main';
export { onParentMessage, tellParent } from './messages';
export type { ChildMessage, ParentMessage } from './messages';
export { outageNotice } from './outage';
export type { OutageNotice } from './outage';
export { exitWhenStopped, untilSignal } from './signals';
export type { Stoppable } from './signals';
export { CLI, Replica, Supervisor } from './supervisor';
export type { ReplicaSpec } from './supervisor';
export { Alarm } from './alarm';
export { metricsArgs, metricsEndpoint, metricsHostOption, metricsPortOption } from './metrics-options';
export type { MetricsEndpoint, MetricsOptions } from './metrics-options';
