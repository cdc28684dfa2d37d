import type { ConsumerTuning } from '../config/parse';
import type { DasyConfig } from '../config/settings';
import type { BatchApp, CommitStrategyName } from '../consumer';
import { topicName, type TopicId } from '../kafka/topics';

/** One of the namespace's topics, or (a declared dataset's) its full name from the namespace. */
export type PartTopic = TopicId | ((namespace: string) => string);

/** The full name of a part's topic. */
export function partTopicName(namespace: string, topic: PartTopic): string {
  return typeof topic === 'function' ? topic(namespace) : topicName(namespace, topic);
}

/**
 * How a consumer part fetches and commits, declared with the part: its defaults, which
 * DASY_CONSUMER_TUNING overrides key by key (all parts, then this part's own keys).
 */
export interface ConsumerSettings {
  tuning?: ConsumerTuning;
  /** how long an idle fetch waits at the broker: bounds the latency of a new message */
  maxWaitTimeInMs?: number;
  /** how each batch is committed (libs/consumer/strategies.ts): plain unless said */
  commit?: CommitStrategyName;
}

/**
 * A consumer part, declared once (apps/components.ts): its name (the CLI command, the application
 * name of its connections, its DASY_CONSUMER_TUNING keys), what it consumes, its settings, and how
 * its app is made. Whoever runs it, the part's own process or the api's, builds it from this with
 * consumerComponent (consumer-component.ts). `H`: what the process running it may hook into the
 * app (the api: the tracker of applied offsets); none when run as a part of its own.
 */
export interface ConsumerPart<H = never, T extends PartTopic = PartTopic> {
  name: string;
  description: string;
  /** one of the namespace's topics, or (a declared dataset's) its full name from the namespace */
  topic: T;
  /** the group's app name: the group is `<ns>.<group>` */
  group: string;
  settings: ConsumerSettings;
  /** the app, its code loaded when called (a process loads only the parts it runs) */
  app(config: DasyConfig, hooks?: H): Promise<BatchApp<unknown>>;
}
