import { Admin, Consumer, Kafka } from '../../libs/kafka/port';
import { Pool } from 'pg';
import { topicName } from '../../libs/kafka/topics';
import { errorMessage } from '../../libs/errors';
import { isKafkaUnavailable } from '../../libs/errors/classify';
import { Logger } from '../../libs/log';
import { retry } from '../../libs/resilience';
import { collectStatus, StatusReport } from '../status';
import { DatasetSummary, declaredTops, summarizeDatasets } from './datasets';

export interface DashboardSnapshot {
  at: string;
  pipeline: StatusReport & { appliedPerSecond: Record<string, number> };
  top: { name: string; no_of_products: number }[];
  ads: { usernames: AdRow[]; sdkVersions: AdRow[] };
  rejects: { file: string; line: number; reason: string; raw: string }[];
  /** every dataset declared in the namespace, by name */
  datasets: DatasetSummary[];
}

export interface AdRow {
  value: string;
  ad_requests: number;
  impressions: number;
  fill_rate: number | null;
}

/**
 * What the dashboard shows, computed at most once a second whatever the number of viewers:
 * pipeline status (lag per partition, rows applied per second from the stored offsets), top names,
 * ad counters, the last rejects (tailed from `<ns>.products.rejects`), and each declared dataset's
 * progress and top groups.
 */
export class DashboardSource {
  private cached: { at: number; snapshot: Promise<DashboardSnapshot> } | undefined;
  private previous: { at: number; applied: Record<string, bigint> } | undefined;
  private rejects: DashboardSnapshot['rejects'] = [];
  private tail: Consumer | undefined;
  private readonly tailGroup: string;

  constructor(private readonly deps: { kafka: Kafka; admin: Admin; pool: Pool; namespace: string; logger: Logger }) {
    this.tailGroup = `${deps.namespace}.dashboard-${process.pid}`;
  }

  snapshot(): Promise<DashboardSnapshot> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= 1000) {
      const snapshot = this.compute();
      snapshot.catch(() => (this.cached = undefined));
      this.cached = { at: now, snapshot };
    }
    return this.cached.snapshot;
  }

  async searchNames(q: string, limit = 20): Promise<{ name: string; no_of_products: number }[]> {
    const { rows } = await this.deps.pool.query<{ name: string; no_of_products: number }>(
      `SELECT name, no_of_products FROM product_count WHERE name ILIKE $1 ORDER BY no_of_products DESC, name LIMIT $2`,
      ['%' + q.replace(/[\\%_]/g, (c) => '\\' + c) + '%', limit],
    );
    return rows;
  }

  private async compute(): Promise<DashboardSnapshot> {
    const { pool, admin, namespace } = this.deps;
    const [pipeline, top, ads, declared] = await Promise.all([
      collectStatus({ admin, pool, namespace }),
      pool
        .query<{ name: string; no_of_products: number }>(`SELECT name, no_of_products FROM product_count ORDER BY no_of_products DESC, name LIMIT 20`)
        .then((r) => r.rows),
      this.ads(),
      declaredTops(pool),
    ]);
    // Rows applied per second, from how far each group's stored offsets moved since last time.
    const now = Date.now();
    const applied: Record<string, bigint> = {};
    for (const g of pipeline.groups) applied[g.group] = g.partitions.reduce((a, p) => a + BigInt(p.stored), 0n);
    const appliedPerSecond: Record<string, number> = {};
    if (this.previous) {
      const seconds = (now - this.previous.at) / 1000;
      for (const [g, v] of Object.entries(applied)) {
        const before = this.previous.applied[g] ?? v;
        appliedPerSecond[g] = seconds > 0 && v >= before ? Math.round(Number(v - before) / seconds) : 0;
      }
    }
    this.previous = { at: now, applied };
    return {
      at: new Date(now).toISOString(),
      pipeline: { ...pipeline, appliedPerSecond },
      top,
      ads,
      rejects: [...this.rejects].reverse(),
      datasets: summarizeDatasets(namespace, declared, pipeline, appliedPerSecond),
    };
  }

  private async ads(): Promise<DashboardSnapshot['ads']> {
    const exists = (await this.deps.pool.query<{ t: string | null }>(`SELECT to_regclass('ad_counters') AS t`)).rows[0].t !== null;
    if (!exists) return { usernames: [], sdkVersions: [] };
    const { rows } = await this.deps.pool.query<{ dimension: string; value: string; ad_requests: string; impressions: string }>(
      `SELECT dimension, value, sum(ad_requests) AS ad_requests, sum(impressions) AS impressions
         FROM ad_counters GROUP BY dimension, value ORDER BY sum(ad_requests) DESC, value LIMIT 200`,
    );
    const toRow = (r: (typeof rows)[number]): AdRow => {
      const requests = Number(r.ad_requests);
      const impressions = Number(r.impressions);
      return { value: r.value, ad_requests: requests, impressions, fill_rate: requests > 0 ? impressions / requests : null };
    };
    return {
      usernames: rows
        .filter((r) => r.dimension === 'username')
        .slice(0, 20)
        .map(toRow),
      sdkVersions: rows
        .filter((r) => r.dimension === 'sdk_version')
        .slice(0, 20)
        .map(toRow),
    };
  }

  /** Keep the last 20 rejects: a throwaway group that starts 20 messages before the end. */
  async startRejectsTail(): Promise<void> {
    const { kafka, admin, namespace } = this.deps;
    const topic = topicName(namespace, 'productsRejects');
    if (!(await admin.listTopics()).includes(topic)) return;
    const consumer = kafka.consumer({ groupId: this.tailGroup, maxWaitTimeInMs: 500, heartbeatInterval: 1000 });
    this.tail = consumer;
    consumer.on('group:join', () => {
      // A new topic's leader may not be elected yet: ask again (with backoff) rather than fail.
      retry(() => admin.fetchTopicOffsets(topic), { isRetriable: isKafkaUnavailable, stopped: () => this.tail !== consumer }).then(
        (offsets) => {
          for (const o of offsets) {
            const from = BigInt(o.high) - 20n > BigInt(o.low) ? BigInt(o.high) - 20n : BigInt(o.low);
            consumer.seek(topic, o.partition, from);
          }
        },
        (err) => this.deps.logger.debug('dashboard: cannot read the end of the rejects topic; tailing from where the group is', { err: errorMessage(err) }),
      );
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        try {
          this.rejects.push(JSON.parse(message.value?.toString('utf8') ?? '') as DashboardSnapshot['rejects'][number]);
          if (this.rejects.length > 20) this.rejects.shift();
        } catch {
          // not ours to judge; the dashboard only shows well-formed reports
        }
      },
    });
  }

  async stop(): Promise<void> {
    const tail = this.tail;
    this.tail = undefined;
    if (tail) {
      await tail.disconnect().catch(() => undefined);
      await this.deps.admin.deleteGroups([this.tailGroup]).catch(() => undefined);
    }
  }
}
