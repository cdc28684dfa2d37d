import { MigrationInterface, QueryRunner } from 'typeorm';

/** Products, their aggregate, the recount outbox, and the consumers' stored offsets. */
export class Core1732300000000 implements MigrationInterface {
  name = 'Core1732300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS products (
      sku text PRIMARY KEY,
      name text NOT NULL,
      description text NOT NULL)`);
    // The product-count consumer recounts one name at a time.
    await q.query(`CREATE INDEX IF NOT EXISTS products_name_idx ON products (name)`);
    await q.query(`CREATE TABLE IF NOT EXISTS product_count (
      name text PRIMARY KEY,
      no_of_products integer NOT NULL CHECK (no_of_products > 0))`);
    // Append-only: a mark becomes visible to the relay only when its batch commits, and the relay
    // deletes exactly the marks it sent, so it can never swallow a mark it did not send. One row
    // per products batch, holding every name the batch marked: a row per name cost a first
    // ingest as much again as the products themselves (a heap tuple and two index entries each).
    // Stored uncompressed: the arrays are read once, and compressing them only costs CPU.
    await q.query(`CREATE TABLE IF NOT EXISTS product_count_outbox (
      id bigint GENERATED ALWAYS AS IDENTITY,
      namespace text NOT NULL,
      names text[] NOT NULL,
      PRIMARY KEY (namespace, id))`);
    await q.query(`ALTER TABLE product_count_outbox ALTER COLUMN names SET STORAGE EXTERNAL`);
    await q.query(`CREATE TABLE IF NOT EXISTS dasy_consumer_offsets (
      group_id text NOT NULL,
      topic text NOT NULL,
      partition integer NOT NULL,
      next_offset bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (group_id, topic, partition))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS dasy_consumer_offsets`);
    await q.query(`DROP TABLE IF EXISTS product_count_outbox`);
    await q.query(`DROP TABLE IF EXISTS product_count`);
    await q.query(`DROP TABLE IF EXISTS products`);
  }
}
