import { KafkaMessage } from '../../libs/kafka/port';
import { PoolClient } from 'pg';
import { PoisonMessageError } from '../../libs/errors';
import { BatchApp } from '../../libs/consumer';

/**
 * ProductCountRecount: each `<ns>.product-count` message says "recount this name" (its key). A
 * batch recounts its distinct names from `products` (index on name) and sets each row, deleting
 * names at zero. A recount is idempotent, so duplicates or late messages can never make a count
 * wrong.
 */
export function productCountRecount(): BatchApp<string> {
  return {
    decode: decodeName,
    async apply(client: PoolClient, names: string[]) {
      // sorted: the probes of the index on products(name) and the writes to product_count's
      // primary key then walk each index in order (pages stay in cache)
      await client.query({ name: 'dasy-product-count-recount', text: RECOUNT_SQL, values: [[...new Set(names)].sort(byCodePoint)] });
    },
  };
}

/** Code point order (the names' order under the C collation; any fixed order would do). */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Recount a batch's names in one set-based statement: each distinct name counted by a probe of
 * the index on products(name) (an index-only scan once VACUUM has set the visibility map); names
 * at zero are deleted, the rest set (an unchanged count is not even written). A probe per name,
 * not a merge join: a merge join reads the whole index once per batch, so its cost grew with the
 * table times the number of batches (2,000,000 rows: 9x the CPU of 500,000); a probe costs the
 * same at any table size.
 */
const RECOUNT_SQL = `
WITH counts AS MATERIALIZED (
  SELECT n.name, (SELECT count(*) FROM products p WHERE p.name = n.name)::integer AS c FROM unnest($1::text[]) AS n(name)
), gone AS (
  DELETE FROM product_count pc USING counts WHERE pc.name = counts.name AND counts.c = 0
)
INSERT INTO product_count AS pc (name, no_of_products)
SELECT name, c FROM counts WHERE c > 0
ON CONFLICT (name) DO UPDATE SET no_of_products = excluded.no_of_products
  WHERE pc.no_of_products <> excluded.no_of_products`;

export function decodeName(message: KafkaMessage): string {
  const name = message.key?.toString('utf8');
  if (!name) throw new PoisonMessageError('message key (the name to recount) is missing or empty');
  if (name.includes('\u0000')) throw new PoisonMessageError('name holds a NUL character');
  return name;
}
