import { PoolClient } from 'pg';
import { advanceOffset, StoredOffsetMismatch, storedOffsets } from '../db/offsets';
import { classify } from '../errors/classify';
import { errorMessage } from '../errors';
import { CommitContext } from './context';
import { PendingBatch } from './commit-strategy';
import { BatchLetters } from './dead-letters';
import { BatchInfo, DeadLetter, Item, Poison } from './types';

/**
 * How a single-batch strategy (plain.ts, fold-begin.ts) opens a batch's transaction: it runs fn
 * in one transaction whose first statement moves the batch's offset (advanceBatchOffset).
 */
export type BatchTransaction = <R>(info: BatchInfo, fn: (client: PoolClient) => Promise<R>) => Promise<R>;

/** The item-by-item pass found messages PostgreSQL refuses that are not dead-lettered yet: roll back, send them first. */
class Refused extends Error {
  constructor(readonly poison: Poison[]) {
    super(`${poison.length} message(s) refused by PostgreSQL`);
  }
}

/**
 * Commit one batch alone (the plain and fold-begin strategies; the coalesce strategy's fallback):
 * its effects, the record of its dead letters and its offset in one transaction, opened by
 * `inTransaction`, which moves the offset first, by compare-and-set from the batch's first offset
 * (libs/db/offsets.ts): the fence. No Kafka call happens inside a transaction: dead letters are
 * sent, and acknowledged, before the transaction that skips them (`letters`, kept across the
 * batch's attempts, says which are), so a message is skipped only once it is in `<topic>.dlq`.
 *
 * The rest of the batch is applied as one (the app's set-based apply). When PostgreSQL refuses it
 * for good (a `data` failure: SQLSTATE 22, 23, 54) the batch is applied again message by message,
 * each in a savepoint; the refused ones, if any, roll it back, are dead-lettered, and the rest is
 * committed as one again. So a refused message costs one item-by-item pass and one more
 * transaction; a refusal only the whole batch meets (none of its messages alone) commits the
 * item-by-item pass. Returns every dead letter of the batch.
 */
export async function commitBatch<T>(ctx: CommitContext<T>, batch: PendingBatch<T>, inTransaction: BatchTransaction): Promise<DeadLetter[]> {
  const { items, info, letters } = batch;
  await sendLetters(ctx, letters, batch.poison, info); // undecodable: known before any transaction
  let itemByItem = false;
  for (;;) {
    const rest = items.filter((i) => !letters.has(i.message));
    try {
      return await inTransaction(info, async (client) => {
        if (itemByItem) await applyEach(ctx, client, rest, info);
        else await applyAll(ctx, client, rest, info);
        return record(ctx, client, letters, info);
      });
    } catch (err) {
      if (err instanceof Refused) {
        await sendLetters(ctx, letters, err.poison, info);
        itemByItem = false; // the rest as one again
      } else if (!itemByItem && classify(err) === 'data') itemByItem = true;
      else throw err;
    }
  }
}

/**
 * Send the batch's dead letters not sent yet, once it is known to start where its partition is
 * stored: a batch that is going to be fenced (fetched before the seek that follows a rebalance,
 * or a zombie's) sends nothing. That check is advisory, outside any transaction; the fence is the
 * compare-and-set of the commit, and a batch fenced in between has sent its dead letters twice.
 */
async function sendLetters<T>(ctx: CommitContext<T>, letters: BatchLetters, poison: Poison[], info: BatchInfo): Promise<void> {
  if (poison.every((p) => letters.has(p.message))) return;
  const stored = (await storedOffsets(ctx.options.pool, ctx.options.groupId, ctx.options.topic)).get(info.partition);
  const start = stored ?? (await ctx.logStart(info.partition)); // a partition's first batch starts at its log start
  if (start !== info.firstOffset) throw new StoredOffsetMismatch(ctx.key(info.partition), info.firstOffset, start);
  await ctx.deadLetters.send(letters, poison, info.partition);
}

/**
 * The fence, first in the batch's transaction: its partition's offset moves by compare-and-set
 * from the batch's first offset (libs/db/offsets.ts); the row lock serializes racing consumers.
 */
export function advanceBatchOffset<T>(ctx: CommitContext<T>, client: PoolClient, info: BatchInfo): Promise<void> {
  return advanceOffset(client, ctx.key(info.partition), info.firstOffset, info.nextOffset, () => ctx.logStart(info.partition));
}

async function applyAll<T>(ctx: CommitContext<T>, client: PoolClient, items: Item<T>[], info: BatchInfo): Promise<void> {
  if (items.length)
    await ctx.options.app.apply(
      client,
      items.map((i) => i.value),
      info,
    );
  ctx.events.emit('batch:applied', info, items.length);
}

/**
 * Apply the messages one at a time in offset order, each in a savepoint (so a later message of a
 * key is applied after the earlier ones, as in the batch); throws Refused with those PostgreSQL
 * refuses for good. Each call's cost is its message's (BatchApp.apply), so the pass is linear.
 */
async function applyEach<T>(ctx: CommitContext<T>, client: PoolClient, items: Item<T>[], info: BatchInfo): Promise<void> {
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
  if (refused.length) throw new Refused(refused);
  ctx.events.emit('batch:applied', info, items.length);
}

/** The batch's dead letters (all sent already), counted and told to the app in the batch's transaction. */
async function record<T>(ctx: CommitContext<T>, client: PoolClient, letters: BatchLetters, info: BatchInfo): Promise<DeadLetter[]> {
  const poison = letters.all();
  if (!poison.length) return [];
  await ctx.deadLetters.record(client, poison);
  const dead = poison.map(({ message, reason }) => ({ offset: message.offset, reason }));
  if (ctx.options.app.deadLettered) await ctx.options.app.deadLettered(client, dead, info);
  return dead;
}
