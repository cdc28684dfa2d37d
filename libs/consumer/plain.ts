import { withTransaction } from '../db/transaction';
import { advanceBatchOffset, BatchTransaction, commitBatch } from './commit';
import { CommitStrategy } from './commit-strategy';
import { CommitContext } from './context';

/**
 * The plain strategy, every consumer's unless its options say otherwise: each batch alone
 * (commit.ts), in a transaction that begins, then moves the batch's offset by compare-and-set:
 * two round trips before the batch's own statements.
 */
export function plainStrategy<T>(ctx: CommitContext<T>): CommitStrategy<T> {
  const inTransaction: BatchTransaction = (info, fn) =>
    withTransaction(ctx.options.pool, async (client) => {
      await advanceBatchOffset(ctx, client, info);
      return fn(client);
    });
  return { commit: (batch) => commitBatch(ctx, batch, inTransaction) };
}
