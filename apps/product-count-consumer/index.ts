import { KafkaMessage } from 'kafkajs';
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
      // Unnamed: planned for this batch's size, a merge join with the index on products(name) for
      // a large batch (one pass over the index, in name order) and index probes for a small one.
      await client.query(RECOUNT_SQL, [[...new Set(names)]]);
    },
  };
}

/**
 * Recount a batch's names in one set-based statement: each distinct name joined with its products
 * and counted; names at zero are deleted, the rest set (an unchanged count is not even written).
 */
const RECOUNT_SQL = `
WITH names AS (
  SELECT unnest($1::text[]) AS name -- distinct already: a DISTINCT here steers the planner off the merge join
), counts AS (
  SELECT n.name, count(p.name)::integer AS c FROM names n LEFT JOIN products p ON p.name = n.name GROUP BY n.name
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
