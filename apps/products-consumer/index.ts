import { KafkaMessage } from 'kafkajs';
import { PoolClient } from 'pg';
import { BatchApp } from '../../libs/consumer';
import { PoisonMessageError } from '../../libs/errors';
import { ProductMessage } from '../products-producer';

export const OUTBOX_CHANNEL = 'dasy_product_count_outbox';

/** A tombstone on `<ns>.products`: key = sku, null value. It deletes the sku. */
export interface ProductTombstone {
  sku: string;
  deleted: true;
}

/** What one `<ns>.products` message says about its sku: its whole new state, or that it is gone. */
export type ProductChange = ProductMessage | ProductTombstone;

export function isTombstone(change: ProductChange): change is ProductTombstone {
  return (change as ProductTombstone).deleted === true;
}

/** The net effect of a batch, as the arrays its one statement takes. */
export interface ProductsPlan {
  skus: string[];
  names: string[];
  descriptions: string[];
  deletes: string[];
}

/**
 * Within a batch (offset order) the later message of a sku wins, whatever it is: an upsert after a
 * tombstone recreates the sku, a tombstone after an upsert deletes it. Every sku then has one
 * effect, so the upserts and the deletes touch disjoint rows (a statement may not touch a row twice).
 */
export function planBatch(items: ProductChange[]): ProductsPlan {
  const latest = new Map<string, ProductChange>();
  for (const item of items) latest.set(item.sku, item);
  const plan: ProductsPlan = { skus: [], names: [], descriptions: [], deletes: [] };
  for (const c of latest.values()) {
    if (isTombstone(c)) {
      plan.deletes.push(c.sku);
    } else {
      plan.skus.push(c.sku);
      plan.names.push(c.name);
      plan.descriptions.push(c.description);
    }
  }
  return plan;
}

/**
 * ProductsUpsert: applies a batch of `<ns>.products` messages, upserts and tombstones alike, in
 * one statement from arrays (planBatch gives each sku its last message's effect). In the same
 * transaction it marks in the outbox every name whose count may have changed: the new name of an
 * inserted sku, both names of a sku that changed name, and the name of a deleted sku. A
 * description-only change marks nothing; a repeat of the same record writes nothing at all; a
 * tombstone for a sku that is not there deletes nothing and marks nothing.
 */
export function productsUpsert(namespace: string): BatchApp<ProductChange> {
  return {
    decode: decodeProduct,
    async apply(client: PoolClient, items: ProductChange[]) {
      const p = planBatch(items);
      await client.query({ name: 'dasy-products-apply', text: APPLY_SQL, values: [p.skus, p.names, p.descriptions, namespace, p.deletes] });
    },
  };
}

const APPLY_SQL = `
WITH up AS (
  -- an unchanged row is not even locked (a re-ingest of the same file writes nothing)
  INSERT INTO products AS p (sku, name, description)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
  ON CONFLICT (sku) DO UPDATE SET name = excluded.name, description = excluded.description
  WHERE (p.name, p.description) IS DISTINCT FROM (excluded.name, excluded.description)
  -- the old name of an updated row: a subquery sees the rows as they were before this statement
  -- (its own changes are invisible to it). xmax = 0 is a row this statement inserted (an updated
  -- one carries our row lock): a first ingest, nearly all inserts, pays no lookup at all.
  RETURNING p.name, CASE WHEN p.xmax = 0 THEN NULL ELSE (SELECT o.name FROM products o WHERE o.sku = p.sku) END AS old_name
), gone AS (
  -- tombstones: skus planBatch did not upsert, so no row is touched twice
  DELETE FROM products p USING unnest($5::text[]) AS d(sku) WHERE p.sku = d.sku
  RETURNING p.name
), marks AS (
  -- a new sku counts for its name; a sku that changed name, for both names; a deleted one, for its name
  SELECT name FROM up WHERE old_name IS DISTINCT FROM name
  UNION
  SELECT old_name FROM up WHERE old_name <> name
  UNION
  SELECT name FROM gone
), marked AS (
  INSERT INTO product_count_outbox (namespace, names) SELECT $4, array_agg(name) FROM marks HAVING count(*) > 0 RETURNING 1
)
-- wakes the relay when this transaction commits (NOTIFY is delivered on commit only)
SELECT CASE WHEN EXISTS (SELECT 1 FROM marked) THEN pg_notify('${OUTBOX_CHANNEL}', $4) END`;

/** A message key that is a valid sku (trimmed, not empty, no NUL), or why it is not. */
function skuOfKey(message: KafkaMessage): string {
  const key = message.key?.toString('utf8') ?? '';
  if (!key.trim() || key !== key.trim()) throw new PoisonMessageError('message key (the sku) is missing, empty or not trimmed');
  if (key.includes('\u0000')) throw new PoisonMessageError('message key (the sku) holds a NUL character');
  return key;
}

export function decodeProduct(message: KafkaMessage): ProductChange {
  // a null value (not an empty one) is a tombstone: the sku is deleted
  if (message.value === null) return { sku: skuOfKey(message), deleted: true };
  let value: unknown;
  try {
    value = JSON.parse(message.value.toString('utf8'));
  } catch {
    throw new PoisonMessageError('value is not JSON');
  }
  const v = value as Partial<ProductMessage>;
  if (!v || typeof v !== 'object') throw new PoisonMessageError('value is not a JSON object');
  for (const field of ['sku', 'name', 'description'] as const) {
    if (typeof v[field] !== 'string') throw new PoisonMessageError(`${field} is missing or not a string`);
    if (v[field].includes('\u0000')) throw new PoisonMessageError(`${field} holds a NUL character`);
  }
  const { sku, name, description } = v as ProductMessage;
  if (!sku.trim() || sku !== sku.trim()) throw new PoisonMessageError('sku is empty or not trimmed');
  if (!name.trim() || name !== name.trim()) throw new PoisonMessageError('name is empty or not trimmed');
  const key = message.key?.toString('utf8');
  if (key !== sku) throw new PoisonMessageError('message key is not the sku');
  return { sku, name, description, line: Number(v.line) || 0, record: Number(v.record) || 0 };
}
