import { PoolClient } from 'pg';
import { BatchApp } from '../../libs/consumer';
import { AdEventMessage, decodeAdEvent } from './messages';

/**
 * Counters are kept per (dimension, value, Kafka partition): usernames are the key of the topic so
 * each has one partition anyway, but one sdk_version is counted by every partition's consumer;
 * with the partition in the key no two consumers ever write the same row (no lock waits, no
 * deadlocks), and a read sums at most one row per partition. The increments are exact because
 * the batch's offsets are stored in the same transaction.
 */
const INCREMENT = `INSERT INTO ad_counters AS c (dimension, value, kafka_partition, ad_requests, impressions)
    SELECT i.dimension, i.value, $5, i.ad_requests, i.impressions
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS i(dimension, value, ad_requests, impressions)
     ORDER BY 1, 2
    ON CONFLICT (dimension, value, kafka_partition) DO UPDATE SET
      ad_requests = c.ad_requests + excluded.ad_requests,
      impressions = c.impressions + excluded.impressions`;

export async function applyAdEvents(client: PoolClient, items: AdEventMessage[], partition: number): Promise<void> {
  const counts = new Map<string, { dimension: string; value: string; ad: number; imp: number }>();
  const bump = (dimension: string, value: string, type: AdEventMessage['type']) => {
    const k = `${dimension}\u0000${value}`;
    let c = counts.get(k);
    if (!c) counts.set(k, (c = { dimension, value, ad: 0, imp: 0 }));
    if (type === 'ad') c.ad++;
    else c.imp++;
  };
  for (const e of items) {
    bump('username', e.username, e.type);
    bump('sdk_version', e.sdk_version, e.type);
  }
  const rows = [...counts.values()];
  await client.query(INCREMENT, [rows.map((r) => r.dimension), rows.map((r) => r.value), rows.map((r) => r.ad), rows.map((r) => r.imp), partition]);
}

export function eventsApp(): BatchApp<AdEventMessage> {
  return {
    decode: (message) => decodeAdEvent(message),
    apply: (client, items, batch) => applyAdEvents(client, items, batch.partition),
  };
}
