import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `products.sku` in the "C" collation: code point order (UTF-8's byte order), whatever the
 * database's collation. The catalogue api pages products by sku and finds skus by prefix on the
 * primary key's index, and only in this order are the skus with a given prefix one range of that
 * index, [prefix, next prefix); a linguistic collation (en_US, ICU) puts "A" between "a" and "b".
 * Equality, which the upserts and joins use, does not change: every deterministic collation
 * compares equal strings byte by byte. The table is not rewritten; its primary key index is rebuilt.
 */
export class SkuOrder1732300005000 implements MigrationInterface {
  name = 'SkuOrder1732300005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE products ALTER COLUMN sku TYPE text COLLATE "C"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE products ALTER COLUMN sku TYPE text COLLATE "default"`);
  }
}
