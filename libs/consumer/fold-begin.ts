import { advanceOffsetStatement, rowsAdvanced } from '../db/offsets';
import { withTransaction } from '../db/transaction';
import { advanceBatchOffset, BatchTransaction, commitBatch } from './commit';
import { CommitStrategy } from './commit-strategy';
import { CommitContext } from './context';

/**
 * The fold-begin strategy, for latency-bound consumers: each batch alone (commit.ts), its
 * transaction's BEGIN and the compare-and-set of its offset sent in one round trip instead of
 * two. The same fence: when the folded statement moves no row (the partition's first batch, or
 * fenced), advanceOffset decides, as in the plain strategy.
 */
export function foldBeginStrategy<T>(ctx: CommitContext<T>): CommitStrategy<T> {
  const inTransaction: BatchTransaction = (info, fn) => {
    const range = { partition: info.partition, from: info.firstOffset, to: info.nextOffset };
    return withTransaction(
      ctx.options.pool,
      async (client, begun) => {
        if (rowsAdvanced(begun) !== 1) await advanceBatchOffset(ctx, client, info);
        return fn(client);
      },
      { withBegin: advanceOffsetStatement(ctx.key(info.partition), range) },
    );
  };
  return { commit: (batch) => commitBatch(ctx, batch, inTransaction) };
}
