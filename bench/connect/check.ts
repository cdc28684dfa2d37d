import { quoteIdent } from '../../libs/db';
import { Context, say } from '../context';
import { Expected } from './records';

export interface TableCheck {
  rows: number;
  /** distinct skus in the file: the rows the table must have */
  expectedRows: number;
  sampled: number;
  /** sampled skus that occur more than once in the file (where the last record must win) */
  sampledRepeated: number;
  /** sampled skus whose row is not their last record */
  notLast: number;
}

/** Rows against the file's distinct skus, and the sampled skus' rows against their last record. */
export async function checkTable(ctx: Context, schema: string, expected: Expected): Promise<TableCheck> {
  const table = `${quoteIdent(schema)}.products`;
  const counts = await ctx.pool.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${table}`);
  const skus = [...expected.sample.keys()];
  const last = [...expected.sample.values()];
  const wrong = await ctx.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM unnest($1::text[], $2::text[], $3::text[]) AS f(sku, name, description)
       LEFT JOIN ${table} p USING (sku)
      WHERE p.sku IS NULL OR p.name <> f.name OR p.description IS DISTINCT FROM f.description`,
    [skus, last.map((l) => l.name), last.map((l) => l.description)],
  );
  const check: TableCheck = {
    rows: Number(counts.rows[0].rows),
    expectedRows: expected.distinct,
    sampled: skus.length,
    sampledRepeated: last.filter((l) => l.times > 1).length,
    notLast: Number(wrong.rows[0].n),
  };
  if (check.rows !== check.expectedRows || check.notLast > 0)
    say(`stages: Kafka Connect's table is not the file's last record per sku: ${JSON.stringify(check)}`);
  return check;
}
