import { JsonText } from './reply';
import { currentStatsOfText, STATS_COLUMNS, StatsText, statsReply } from './store';

/** The body of `GET /api/products/:name/stats` (the current session) made from its row. */
export function statsBody(t: StatsText): string {
  const row = currentStatsOfText(t);
  return JSON.stringify({ ...statsReply(row.name, row, row.first_at, row.last_at), session: row.session });
}

/** Whether two rows read as text are the same row, column by column. */
export function sameRow(a: StatsText, b: StatsText): boolean {
  for (const c of STATS_COLUMNS) if (a[c] !== b[c]) return false;
  return true;
}

/**
 * The current statistics' bodies, each kept with the row it was made from. A body is a pure
 * function of its row, so a row read again unchanged (a product read more often than it is pushed
 * to) gets the same body without decoding its sums, computing the mean and stddev from them (exact,
 * in BigInt) or serializing again. Only the body is reused, never a row: every GET still reads its
 * row after it arrived (StatsReader). At most `maxNames` bodies are kept (beyond, the one kept
 * first goes): a bound on memory, whatever the number of products.
 */
export class StatsBodies {
  private readonly kept = new Map<string, { row: StatsText; body: JsonText }>();

  constructor(private readonly maxNames = 10_000) {}

  of(row: StatsText): JsonText {
    const kept = this.kept.get(row.name);
    if (kept && sameRow(kept.row, row)) return kept.body;
    const body = new JsonText(statsBody(row));
    if (!kept && this.kept.size >= this.maxNames) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(row.name, { row, body });
    return body;
  }

  /** How many bodies are kept. */
  get size(): number {
    return this.kept.size;
  }
}
