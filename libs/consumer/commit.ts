import { PoolClient } from 'pg';
import { advanceOffset, advanceOffsetStatement, rowsAdvanced } from '../db/offsets';
import { withTransaction } from '../db/transaction';
import { classify } from '../errors/classify';
import { errorMessage } from '../errors';
import { ConsumerContext } from './context';
import { BatchInfo, DeadLetter, Item, Poison } from './types';

/**
 * Commit one batch: its effects, its dead letters and its offset in one transaction. The offset
 * moves first, by compare-and-set from the batch's first offset (libs/db/offsets.ts): the fence.
 * A data error (PostgreSQL refusing a value: SQLSTATE classes 22, 23) rolls back and the batch is
 * tried again message by message, each in a savepoint, so the refused ones are dead-lettered and
 * the rest applied. Returns the messages that were dead-lettered.
 */
export async function commitBatch<T>(ctx: ConsumerContext<T>, items: Item<T>[], poison: Poison[], info: BatchInfo): Promise<DeadLetter[]> {
  try {
    return await inBatchTransaction(ctx, info, (client) => applyAll(ctx, client, items, poison, info));
  } catch (err) {
    if (classify(err) !== 'data') throw err;
    return inBatchTransaction(ctx, info, (client) => applyIsolated(ctx, client, items, poison, info));
  }
}

/** The batch's transaction, its offset advanced first (folded into BEGIN's round trip with foldBegin). */
function inBatchTransaction<T, R>(ctx: ConsumerContext<T>, info: BatchInfo, fn: (client: PoolClient) => Promise<R>): Promise<R> {
  const key = ctx.key(info.partition);
  const range = { partition: info.partition, from: info.firstOffset, to: info.nextOffset };
  const folded = ctx.options.foldBegin ? advanceOffsetStatement(key, range) : undefined;
  return withTransaction(
    ctx.options.pool,
    async (client, begun) => {
      // not folded, or the folded compare-and-set matched nothing: advanceOffset decides (first batch, or fenced)
      if (!folded || rowsAdvanced(begun) !== 1) await advanceOffset(client, key, range.from, range.to, () => ctx.logStart(info.partition));
      return fn(client);
    },
    { asyncCommit: !ctx.options.durableCommit, withBegin: folded },
  );
}

async function applyAll<T>(ctx: ConsumerContext<T>, client: PoolClient, items: Item<T>[], poison: Poison[], info: BatchInfo): Promise<DeadLetter[]> {
  if (items.length)
    await ctx.options.app.apply(
      client,
      items.map((i) => i.value),
      info,
    );
  ctx.events.emit('batch:applied', info, items.length);
  return deadLetter(ctx, client, poison, info);
}

/** Find the messages PostgreSQL refuses, one savepoint each; apply the rest. */
async function applyIsolated<T>(ctx: ConsumerContext<T>, client: PoolClient, items: Item<T>[], poison: Poison[], info: BatchInfo): Promise<DeadLetter[]> {
  const refused: Poison[] = [];
  for (const item of items) {
    await client.query('SAVEPOINT dasy_item');
    try {
      await ctx.options.app.apply(client, [item.value], info);
      await client.query('RELEASE SAVEPOINT dasy_item');
    } catch (err) {
      if (classify(err) !== 'data') throw err;
      await client.query('ROLLBACK TO SAVEPOINT dasy_item');
      refused.push({ message: item.message, reason: `rejected by PostgreSQL: ${errorMessage(err)}` });
    }
  }
  ctx.events.emit('batch:applied', info, items.length - refused.length);
  return deadLetter(ctx, client, [...poison, ...refused], info);
}

/** Send the batch's dead letters and tell the app, in the batch's transaction. */
async function deadLetter<T>(ctx: ConsumerContext<T>, client: PoolClient, poison: Poison[], info: BatchInfo): Promise<DeadLetter[]> {
  await ctx.deadLetters.send(client, poison, info.partition);
  const letters = poison.map(({ message, reason }) => ({ offset: BigInt(message.offset), reason }));
  if (letters.length && ctx.options.app.deadLettered) await ctx.options.app.deadLettered(client, letters, info);
  return letters;
}
