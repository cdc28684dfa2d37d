import { KafkaMessage } from 'kafkajs';
import { PoolClient } from 'pg';
import { PoisonMessageError } from '../../libs/errors';
import { BatchApp } from '../../libs/consumer';

/**
 * ProductCountRecount: each `<ns>.product-count` message says "recount this name". A batch
 * recounts its distinct names from `products` (index on name) and sets each row, deleting names
 * at zero. A recount is idempotent, so duplicates or late messages can never make a count wrong.
 */
export function productCountRecount(): BatchApp<string> {
  return {
    decode: decodeName,
    async apply(client: PoolClient, names: string[]) {
      // sorted: the index on products(name) is then read in order, page after page
      const distinct = [...new Set(names)].sort();
      await client.query({ name: 'dasy-product-count-recount', text: RECOUNT_SQL, values: [distinct] });
    },
  };
}

const RECOUNT_SQL = `
WITH names AS (
  SELECT unnest($1::text[]) AS name
), counts AS (
  SELECT n.name, (SELECT count(*) FROM products p WHERE p.name = n.name)::integer AS c FROM names n
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
