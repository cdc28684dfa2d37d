import { advanceOffsetsStatement, rowsAdvanced } from '../db/offsets';
import { withTransaction } from '../db/transaction';
import { errorMessage } from '../errors';
import { ABANDONED, CommitStrategy, PendingBatch } from './commit-strategy';
import { CommitContext } from './context';
import { BatchInfo } from './types';

type Waiting<T> = { items: T[]; info: BatchInfo; resolve: (done: boolean) => void };

/** Not every range matched: the usual path decides for each batch. */
class NotAllAdvanced extends Error {}

/**
 * The coalesce strategy, for latency-bound consumers: batches of several partitions that arrive
 * together (one fetch, handed over in the same turn of the event loop) are committed in one
 * transaction, their offsets moved by one compare-and-set statement sent with BEGIN. Only a
 * batch's first attempt is offered, and only without undecodable messages. Any failure (a range
 * not matching, a data error, an outage) rolls it all back: each batch then takes `alone` (the
 * fold-begin strategy, strategies.ts), so the guarantees are those of the single-batch path.
 */
export function coalesceStrategy<T>(ctx: CommitContext<T>, alone: CommitStrategy<T>): CommitStrategy<T> {
  const together = new Coalescer(ctx);
  return {
    async commit(batch, attempt) {
      if (attempt === 0 && !batch.poison.length) {
        if (await together.offer(batch)) return [];
        if (!batch.live()) return ABANDONED; // it went while it waited: nothing was committed
      }
      return alone.commit(batch, attempt);
    },
  };
}

/** The batches offered in one turn of the event loop, committed together when there are several. */
class Coalescer<T> {
  private waiting: Waiting<T>[] = [];
  private scheduled = false;

  constructor(private readonly ctx: CommitContext<T>) {}

  /** Resolves true once the batch is committed with others; false: commit it alone. */
  offer(batch: PendingBatch<T>): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiting.push({ items: batch.items.map((i) => i.value), info: batch.info, resolve });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush() {
    this.scheduled = false;
    const group = this.waiting;
    this.waiting = [];
    if (group.length < 2) return group.forEach((w) => w.resolve(false));
    const answer = (done: boolean) => group.forEach((w) => w.resolve(done));
    this.commitTogether(group).then(answer, () => answer(false));
  }

  private async commitTogether(group: Waiting<T>[]): Promise<boolean> {
    const { options } = this.ctx;
    group.sort((a, b) => a.info.partition - b.info.partition);
    const ranges = group.map((w) => ({ partition: w.info.partition, from: w.info.firstOffset, to: w.info.nextOffset }));
    try {
      return await withTransaction(
        options.pool,
        async (client, begun) => {
          if (rowsAdvanced(begun) !== group.length) throw new NotAllAdvanced();
          if (options.app.applyMany)
            await options.app.applyMany(
              client,
              group.map((w) => ({ items: w.items, batch: w.info })),
            );
          else for (const w of group) if (w.items.length) await options.app.apply(client, w.items, w.info);
          return true;
        },
        { withBegin: advanceOffsetsStatement(options.groupId, options.topic, ranges) },
      );
    } catch (err) {
      if (!(err instanceof NotAllAdvanced))
        this.ctx.log.debug('batches of several partitions failed together; applying them one by one', { err: errorMessage(err) });
      return false;
    }
  }
}
