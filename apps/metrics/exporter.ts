import { Counter, Gauge, Registry } from 'prom-client';
import { ClusterSample, ConsumedGroup, groupKey } from './source';

/** Where the series come from: a ClusterSource (source.ts), or a fixed sample in a test. */
export interface SampleSource {
  readonly groups: ConsumedGroup[];
  sample(): Promise<ClusterSample>;
}

type Labels = Record<string, string>;
type Values = [Labels, number][];

/**
 * The cluster's series, the same in `GET /metrics` of the api and in `dasy metrics`: per group
 * and partition the stored offset (PostgreSQL), the end offset (Kafka) and the lag; dead letters
 * per dead-letter topic; records and rejected records per CSV file; table sizes; the outbox;
 * whether Kafka and PostgreSQL answer. Every series is read at scrape time from one sample
 * (source.ts); a series whose service did not answer is absent, and its `up` gauge is 0.
 */
export function clusterMetrics(registry: Registry, source: SampleSource): void {
  const gauge = (name: string, help: string, labelNames: string[], values: (s: ClusterSample) => Values) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const sample = await source.sample();
        this.reset();
        for (const [labels, value] of values(sample)) this.set(labels, value);
      },
    });
  // a counter kept elsewhere (a table), shown as it is there
  const counter = (name: string, help: string, labelNames: string[], values: (s: ClusterSample) => Values) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const sample = await source.sample();
        this.reset();
        for (const [labels, value] of values(sample)) this.inc(labels, value);
      },
    });
  const partition = ['group', 'topic', 'partition'];

  const each = (s: ClusterSample, value: (o: Offsets) => bigint | undefined): Values =>
    offsets(source, s).flatMap(([labels, o]) => {
      const v = value(o);
      return v === undefined ? [] : [[labels, Number(v)]];
    });
  gauge('dasy_consumer_stored_offset', 'next offset the group applies, as stored in PostgreSQL with the applied data', partition, (s) =>
    each(s, (o) => o.stored),
  );
  gauge('dasy_consumer_end_offset', 'end offset (high watermark) of the partition in Kafka', partition, (s) => each(s, (o) => o.end));
  gauge('dasy_consumer_lag', 'messages of the partition the group has not applied yet (end offset - stored offset)', partition, (s) =>
    each(s, (o) => (o.end === undefined || o.stored === undefined ? undefined : o.end > o.stored ? o.end - o.stored : 0n)),
  );
  gauge('dasy_consumer_last_commit_timestamp_seconds', 'when the group last committed a batch (Unix time)', ['group', 'topic'], (s) =>
    source.groups.flatMap(({ group, topic }) => {
      const at = s.db?.lastCommit.get(groupKey(group, topic));
      return at === undefined ? [] : [[{ group, topic }, at] as [Labels, number]];
    }),
  );
  counter('dasy_dead_letters_total', 'messages sent to the dead-letter topic (dasy_dead_letters)', ['topic'], (s) =>
    (s.db?.deadLetters ?? []).map((d) => [{ topic: d.topic }, d.messages]),
  );
  gauge('dasy_dead_letters_last_timestamp_seconds', 'when the last message went to the dead-letter topic (Unix time)', ['topic'], (s) =>
    (s.db?.deadLetters ?? []).map((d) => [{ topic: d.topic }, d.lastAt]),
  );
  counter('dasy_csv_records_total', 'CSV records read from the file, over its ingests (counted when a file is done)', ['file'], (s) =>
    (s.db?.files ?? []).map((f) => [{ file: f.file }, f.records]),
  );
  counter('dasy_csv_rejected_records_total', 'CSV records of the file rejected by the ingest rules, over its ingests', ['file'], (s) =>
    (s.db?.files ?? []).map((f) => [{ file: f.file }, f.rejected]),
  );
  gauge('dasy_table_rows', "rows in the table: PostgreSQL's statistics estimate (pg_stat_user_tables.n_live_tup), no scan", ['table'], (s) =>
    (s.db?.tables ?? []).map((t) => [{ table: t.table }, t.rows]),
  );
  // NaN while it is not known (a series without labels is never absent)
  gauge('dasy_outbox_waiting_names', 'names waiting in the outbox to be recounted (counted at most every 10 s)', [], (s) => [[{}, s.db?.outbox ?? NaN]]);
  gauge('dasy_kafka_up', 'whether Kafka answered the last scrape (1) or not (0)', [], (s) => [[{}, s.ends ? 1 : 0]]);
  gauge('dasy_postgresql_up', 'whether PostgreSQL answered the last scrape (1) or not (0)', [], (s) => [[{}, s.db ? 1 : 0]]);
}

type Offsets = { stored?: bigint; end?: bigint };

/**
 * Every partition of every group: its stored offset when PostgreSQL answered (0 when none is
 * stored yet, as `make status` counts it), its end offset when Kafka answered.
 */
function offsets(source: SampleSource, s: ClusterSample): [Labels, Offsets][] {
  return source.groups.flatMap(({ group, topic }) => {
    const ends = s.ends?.get(topic);
    const stored = s.db?.stored.get(groupKey(group, topic));
    const partitions = [...new Set([...(ends?.keys() ?? []), ...(stored?.keys() ?? [])])].sort((a, b) => a - b);
    return partitions.map((p): [Labels, Offsets] => [
      { group, topic, partition: String(p) },
      { stored: s.db ? (stored?.get(p) ?? 0n) : undefined, end: ends?.get(p) },
    ]);
  });
}
