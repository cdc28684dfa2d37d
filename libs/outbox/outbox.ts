/**
 * An outbox of keys to send (DESIGN.md §1): rows appended in the transaction that made them due,
 * each with an id, taken and deleted by id once the broker acknowledged their keys. products has
 * one (product_count_outbox: names to recount), the declared datasets share one
 * (dasy_dataset_outbox: group keys per aggregate). What differs is its SQL, declared here; the
 * drain (drain.ts) and the relay (relay.ts) are the same for every outbox. Every statement takes
 * the outbox's `scope` as $1 (the namespace, or the dataset).
 */
export interface Outbox {
  /** the relay's name: its log namespace, its Kafka client id and its connections' application name */
  name: string;
  /** NOTIFY channel its writers wake the relay on, with the scope as payload */
  channel: string;
  scope: string;
  /** the newest waiting mark's id, or no row */
  newestSql: string;
  /** `ids`: every waiting mark's id (one snapshot with cursorSql) */
  takeSql: string;
  /** the distinct keys of those marks: `key`, and `route` (a topic's route, see topicOf) */
  cursorSql: string;
  /** exactly the marks taken: $2 the ids */
  deleteSql: string;
  /** every topic its keys go to */
  topics: string[];
  /** the topic a key of this route goes to (one of topics) */
  topicOf(route: string | null): string;
}
