import { KafkaMessage } from 'kafkajs';
import { PoolClient } from 'pg';
import { BatchApp } from '../../libs/consumer';
import { PoisonMessageError } from '../../libs/errors';
import { ProductMessage } from '../products-producer';

export const OUTBOX_CHANNEL = 'dasy_product_count_outbox';

/**
 * ProductsUpsert: applies a batch of `<ns>.products` messages. Within the batch the later record
 * of a sku wins (ON CONFLICT cannot touch a row twice in one statement); one statement upserts
 * them all from arrays and, in the same transaction, marks in the outbox every name whose count
 * may have changed: the new name of an inserted sku, and both names of a sku that changed name.
 * A description-only change marks nothing; a repeat of the same record writes nothing at all.
 */
export function productsUpsert(namespace: string): BatchApp<ProductMessage> {
  return {
    decode: decodeProduct,
    async apply(client: PoolClient, items: ProductMessage[]) {
      const latest = new Map<string, ProductMessage>();
      for (const item of items) latest.set(item.sku, item);
      const skus: string[] = [];
      const names: string[] = [];
      const descriptions: string[] = [];
      for (const p of latest.values()) {
        skus.push(p.sku);
        names.push(p.name);
        descriptions.push(p.description);
      }
      await client.query({ name: 'dasy-products-upsert', text: UPSERT_SQL, values: [skus, names, descriptions, namespace] });
    },
  };
}

const UPSERT_SQL = `
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
), marks AS (
  -- a new sku counts for its name; a sku that changed name, for both names
  SELECT name FROM up WHERE old_name IS DISTINCT FROM name
  UNION
  SELECT old_name FROM up WHERE old_name <> name
), marked AS (
  INSERT INTO product_count_outbox (namespace, names) SELECT $4, array_agg(name) FROM marks HAVING count(*) > 0 RETURNING 1
)
-- wakes the relay when this transaction commits (NOTIFY is delivered on commit only)
SELECT CASE WHEN EXISTS (SELECT 1 FROM marked) THEN pg_notify('${OUTBOX_CHANNEL}', $4) END`;

export function decodeProduct(message: KafkaMessage): ProductMessage {
  let value: unknown;
  try {
    value = JSON.parse(message.value?.toString('utf8') ?? '');
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
