/**
 * The component runtime, the top lib: lifecycle, supervision, signals (see ARCHITECTURE.md). Its
 * leaves (backoff, retries, outage notices, the alarm) are libs/resilience.
 */
export { runComponent } from './component';
export type { Component, ComponentSpec } from './component';
export { installLastResortHandlers, partName, runMain } from './main';
export { onParentMessage, tellParent } from './messages';
export type { ChildMessage, ParentMessage } from './messages';
export { exitWhenStopped, untilSignal } from './signals';
export type { Stoppable } from './signals';
export { CLI, Replica, Supervisor } from './supervisor';
export type { ReplicaSpec } from './supervisor';
export { metricsArgs, metricsEndpoint, metricsHostOption, metricsPortOption } from './metrics-options';
export type { MetricsEndpoint, MetricsOptions } from './metrics-options';
