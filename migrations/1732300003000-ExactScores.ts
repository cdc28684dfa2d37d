import { MigrationInterface, QueryRunner } from 'typeorm';
import { add, exactOf, mul, scale, toDecimal } from '../libs/stats/exact';

const TABLES = ['score_stats', 'score_sessions', 'score_buckets'] as const;
const KEYS: Record<(typeof TABLES)[number], string[]> = {
  score_stats: ['name'],
  score_sessions: ['name', 'session'],
  score_buckets: ['name', 'minute'],
};

/**
 * Score statistics become exact: (count, mean, m2) in float8 → (count, sum, sum_sq) in numeric,
 * the exact sums of the scores and of their squares (libs/stats). A float8 merge rounded at every
 * step and underflowed (scores near 1e-170: PostgreSQL refused the batch, issue 15); adding exact
 * sums cannot. Existing rows get the sums their float8 mean and m2 stand for (n·mean and
 * m2 + n·mean², computed exactly from those doubles, so they read back as binary fractions).
 */
export class ExactScores1732300003000 implements MigrationInterface {
  name = 'ExactScores1732300003000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN sum numeric, ADD COLUMN sum_sq numeric`);
      const keys = KEYS[table];
      const rows = (await q.query(`SELECT ${keys.join(', ')}, count, mean, m2 FROM ${table}`)) as Record<string, unknown>[];
      for (let i = 0; i < rows.length; i += 5000) {
        const chunk = rows.slice(i, i + 5000);
        const sums = chunk.map((r) => {
          const n = BigInt(r.count as string);
          const mean = exactOf(r.mean as number);
          return [toDecimal(scale(mean, n)), toDecimal(add(exactOf(Math.max(0, r.m2 as number)), scale(mul(mean, mean), n)))];
        });
        const columns = keys.map((k, j) => `$${j + 1}::${k === 'minute' ? 'timestamptz' : k === 'session' ? 'integer' : 'text'}[]`);
        await q.query(
          `UPDATE ${table} t SET sum = v.sum, sum_sq = v.sum_sq
             FROM unnest(${columns.join(', ')}, $${keys.length + 1}::numeric[], $${keys.length + 2}::numeric[]) AS v(${keys.join(', ')}, sum, sum_sq)
            WHERE ${keys.map((k) => `t.${k} = v.${k}`).join(' AND ')}`,
          [...keys.map((k) => chunk.map((r) => r[k])), sums.map((s) => s[0]), sums.map((s) => s[1])],
        );
      }
      await q.query(`UPDATE ${table} SET sum = 0, sum_sq = 0 WHERE sum IS NULL`);
      await q.query(`ALTER TABLE ${table} ALTER COLUMN sum SET NOT NULL, ALTER COLUMN sum_sq SET NOT NULL, DROP COLUMN mean, DROP COLUMN m2`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN mean double precision, ADD COLUMN m2 double precision`);
      await q.query(`UPDATE ${table} SET mean = CASE WHEN count = 0 THEN 0 ELSE (sum / count)::float8 END,
                                      m2 = CASE WHEN count = 0 THEN 0 ELSE greatest(0, sum_sq - sum * sum / count)::float8 END`);
      await q.query(`ALTER TABLE ${table} ALTER COLUMN mean SET NOT NULL, ALTER COLUMN m2 SET NOT NULL, DROP COLUMN sum, DROP COLUMN sum_sq`);
    }
  }
}
