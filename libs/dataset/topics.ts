import { groupId, TopicSpec } from '../kafka/topics';
import { AggregateSpec, DatasetSpec } from './spec';

/**
 * A declared dataset's topics and consumer groups (DESIGN.md §8): its changelog `<ns>.<dataset>`
 * (compacted, keyed by the key), its rejects `<ns>.<dataset>.rejects`, and per aggregate the
 * groups to recount `<ns>.<dataset>.<aggregate>`; groups `<ns>.<dataset>-consumer` and
 * `<ns>.<dataset>.<aggregate>-consumer`. Partitions as products'.
 */
export const DATASET_TOPIC: TopicSpec = { name: '', key: 'the key', partitions: 6, deadLetter: true, compact: true };
export const REJECTS_TOPIC: TopicSpec = { name: '', key: 'file:line', partitions: 1, deadLetter: false };
export const AGGREGATE_TOPIC: TopicSpec = { name: '', key: 'the group', partitions: 6, deadLetter: true };

export function rowsTopic(namespace: string, spec: DatasetSpec): string {
  return `${namespace}.${spec.name}`;
}

export function rejectsTopic(namespace: string, spec: DatasetSpec): string {
  return `${namespace}.${spec.name}.rejects`;
}

export function aggregateTopic(namespace: string, spec: DatasetSpec, aggregate: AggregateSpec): string {
  return `${namespace}.${spec.name}.${aggregate.name}`;
}

/** The group's app name (groupId adds the namespace). */
export function rowsGroupApp(spec: DatasetSpec): string {
  return `${spec.name}-consumer`;
}

export function aggregateGroupApp(spec: DatasetSpec, aggregate: AggregateSpec): string {
  return `${spec.name}.${aggregate.name}-consumer`;
}

/** Every topic of the dataset, with its spec (ensureNamedTopics creates them and their dead-letter topics). */
export function datasetTopics(namespace: string, spec: DatasetSpec): { name: string; spec: TopicSpec }[] {
  return [
    { name: rowsTopic(namespace, spec), spec: DATASET_TOPIC },
    { name: rejectsTopic(namespace, spec), spec: REJECTS_TOPIC },
    ...spec.aggregates.map((a) => ({ name: aggregateTopic(namespace, spec, a), spec: AGGREGATE_TOPIC })),
  ];
}

/** Every consumer group of the dataset with its topic, full names (status, metrics). */
export function datasetGroups(namespace: string, spec: DatasetSpec): { group: string; topic: string }[] {
  return [
    { group: groupId(namespace, rowsGroupApp(spec)), topic: rowsTopic(namespace, spec) },
    ...spec.aggregates.map((a) => ({ group: groupId(namespace, aggregateGroupApp(spec, a)), topic: aggregateTopic(namespace, spec, a) })),
  ];
}
