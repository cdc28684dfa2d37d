import { Pool } from 'pg';
import { Logger } from '../../libs/log';
import { view } from '../../libs/stats';
import { AppliedTracker, NotAppliedError, Outcome } from './applied';
import { EventSender } from './event-sender';
import { encode } from './messages';
import { Placement } from './producer';
import { CurrentStats, endedSession, includesPush, sessionOfPush, StatsReader } from './store';
import { ApiError, validatePush } from './validate';

export interface ScoreWritesDeps {
  pool: Pool;
  tracker: AppliedTracker;
  sender: EventSender;
  /** <ns>.scores */
  topic: string;
  log: Logger;
  /** how long a push (or reset) waits to be applied before answering 503 */
  pushTimeoutMs: number;
}

/**
 * Pushes and resets of a product's scores, each answered once the scores consumer applied it
 * (read-your-writes), and the current statistics they are answered with.
 */
export class ScoreWrites {
  private readonly stats: StatsReader;

  constructor(private readonly deps: ScoreWritesDeps) {
    this.stats = new StatsReader(deps.pool);
  }

  /** A push, from its parsed body to the reply once it is applied. */
  async push(body: unknown) {
    const push = validatePush(body);
    const at = Date.now();
    const deadline = at + this.deps.pushTimeoutMs;
    const p = await this.deps.sender.send(this.deps.topic, push.name, encode({ type: 'push', ...push, at }), deadline);
    const snapshot = await this.applied(p, 'push', deadline, push.name);
    const row = snapshot && includesPush(snapshot, p.offset) ? snapshot : await this.current(push.name);
    if (includesPush(row, p.offset)) return { name: row.name, ...view(row) };
    // A reset applied after this push ended its session: answer with that session.
    const ended = await sessionOfPush(this.deps.pool, push.name, p.partition, p.offset);
    if (!ended) throw new ApiError(503, 'not_applied', 'the push was applied but its session could not be read; retry the read');
    return { name: push.name, ...ended };
  }

  /** A reset of `name`'s statistics: the session it ended and the new one, once it is applied. */
  async reset(name: string, username: string | null) {
    await this.current(name);
    const at = Date.now();
    const deadline = at + this.deps.pushTimeoutMs;
    const p = await this.deps.sender.send(this.deps.topic, name, encode({ type: 'reset', name, username, at }), deadline);
    await this.applied(p, 'reset', deadline);
    const ended = await endedSession(this.deps.pool, name, p.partition, p.offset, at);
    if (!ended) throw new ApiError(404, 'not_found', `no product named ${JSON.stringify(name)} has scores`, 'name');
    const now = await this.current(name);
    return { name, session: now.session, ended };
  }

  /** The current statistics of `name`; 404 when it has no scores. */
  async current(name: string): Promise<CurrentStats> {
    const row = await this.stats.load(name);
    if (!row) throw new ApiError(404, 'not_found', `no product named ${JSON.stringify(name)} has scores`, 'name');
    return row;
  }

  /**
   * Read-your-writes: wait until the scores consumer group applied the message at `p`; the
   * current statistics of `name` when the applying batch handed them over. A message it could not
   * apply (dead-lettered) is a 500: it was accepted but will never be in the statistics.
   */
  private async applied(p: Placement, what: 'push' | 'reset', deadline: number, name?: string): Promise<CurrentStats | undefined> {
    let outcome: Outcome;
    try {
      outcome = await this.deps.tracker.waitApplied(p.partition, p.offset, Math.max(1, deadline - Date.now()), name);
    } catch (err) {
      if (!(err instanceof NotAppliedError)) throw err;
      throw new ApiError(
        503,
        'not_applied',
        `the ${what} was accepted (${p.topic}[${p.partition}]@${p.offset}) but not applied within ${this.deps.pushTimeoutMs / 1000} s; ` +
          `it will be applied when the scores consumer catches up`,
      );
    }
    const reason =
      outcome.kind === 'dead-lettered' ? outcome.reason : outcome.kind === 'passed' ? await this.deps.tracker.deadLetterOf(p.partition, p.offset) : undefined;
    if (reason !== undefined) {
      this.deps.log.warn(`${what} ${p.topic}[${p.partition}]@${p.offset} was dead-lettered: ${reason}`);
      throw new ApiError(
        500,
        'dead_lettered',
        `the ${what} was accepted (${p.topic}[${p.partition}]@${p.offset}) but the scores consumer could not apply it; ` +
          `it is in ${p.topic}.dlq with the reason and is not in the statistics`,
      );
    }
    return outcome.kind === 'applied' ? outcome.stats : undefined;
  }
}
