import { PoolClient } from 'pg';
import { readSkusFile } from '../../libs/csv/reader';

/**
 * The skus of a file into a temporary table (`sku` as products has it, the primary key), one
 * INSERT per chunk of the file: memory stays flat however long the file. The table is dropped at
 * the end of the client's transaction, or with `session`, at the end of its session (or a DROP):
 * then it is loaded outside any transaction. `readable`: every sku that can be read, rejected
 * records included (see SkusCsv).
 */
export async function loadFileSkus(client: PoolClient, file: string, table: string, options: { readable?: boolean; session?: boolean } = {}): Promise<void> {
  // the column as products has it (its collation too: the join with products can then read both
  // primary keys in order)
  await client.query(`CREATE TEMP TABLE ${table} ${options.session ? '' : 'ON COMMIT DROP'} AS SELECT sku FROM products WITH NO DATA`);
  await client.query(`ALTER TABLE ${table} ADD PRIMARY KEY (sku)`);
  let page: string[] = [];
  const insert = async () => {
    if (!page.length) return;
    const skus = page;
    page = [];
    await client.query(`INSERT INTO ${table} (sku) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [skus]);
  };
  await readSkusFile(file, { sku: (s) => page.push(s.sku), reject: () => undefined }, insert, options);
  await insert();
  // a temporary table has no statistics until analyzed: the planner would guess its size
  await client.query(`ANALYZE ${table}`);
}
