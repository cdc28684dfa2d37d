import { Pool } from 'pg';
import { errorMessage } from '../../libs/errors';
import { Logger } from '../../libs/log';
import { view } from '../../libs/stats';
import { AppliedTracker, NotAppliedError, Outcome } from './applied';
import { EventSender, NotSentError } from './event-sender';
import { encode, ScoreMessage } from './messages';
import { Placement } from './producer';
import { AppliedAt, fingerprint, keyedRow, RequestRef, ScoreRequests, unkeyedRequest } from './score-requests';
import { CurrentStats, currentStatsOfText, endedSession, includesPush, sessionOfPush, StatsReader, StatsText } from './store';
import { ApiError, PushRequest, validatePush, validateReset } from './validate';

export interface ScoreWritesDeps {
  pool: Pool;
  tracker: AppliedTracker;
  sender: EventSender;
  requests: ScoreRequests;
  /** <ns>.scores */
  topic: string;
  log: Logger;
  /** how long a push (or reset) waits to be applied before answering 503 */
  pushTimeoutMs: number;
}

/** A write's message on its way: its request, and the product name it is keyed by. */
interface Outgoing {
  ref: RequestRef;
  name: string;
  value: Buffer;
}

/** Where a write's message was applied: its placement, and the statistics its batch handed over (in-process). */
interface Applied {
  at: AppliedAt;
  snapshot?: CurrentStats;
}

/**
 * Pushes and resets of a product's scores, each answered once the scores consumer applied it
 * (read-your-writes), and the current statistics they are answered with. Each is a request of
 * `score_requests` (score-requests.ts): answered 503, it is abandoned and never applied afterwards;
 * with an Idempotency-Key, a retry is applied once and answered with the first answer.
 */
export class ScoreWrites {
  private readonly stats: StatsReader;

  constructor(private readonly deps: ScoreWritesDeps) {
    this.stats = new StatsReader(deps.pool);
  }

  /** A push, from its parsed body to the reply once it is applied. */
  async push(body: unknown, idempotencyKey?: string): Promise<unknown> {
    return this.pushValid(validatePush(body), idempotencyKey === undefined ? undefined : keyedRow(idempotencyKey), 'POST /api/push');
  }

  /**
   * A validated push, under the `score_requests` row `rowKey` when it is keyed (undefined: the
   * consumer makes its row); `route` names it in the row's fingerprint.
   */
  async pushValid(push: PushRequest, rowKey: string | undefined, route: string): Promise<unknown> {
    const answer = (a: Applied) => this.pushAnswer(push.name, a);
    return this.write(rowKey, route, push, 'push', answer, (at, ref) => pushMessage(push, at, ref));
  }

  /** A reset of `name`'s statistics: the session it ended and the new one, once it is applied. */
  async reset(name: string, body: unknown, idempotencyKey?: string): Promise<unknown> {
    const { username } = validateReset(body);
    const answer = async (a: Applied) => {
      const ended = await endedSession(this.deps.pool, name, a.at.partition, a.at.offset, a.at.sentAt);
      if (!ended) throw new ApiError(404, 'not_found', `no product named ${JSON.stringify(name)} has scores`, 'name');
      const now = await this.current(name);
      return { name, session: now.session, ended };
    };
    await this.current(name);
    const rowKey = idempotencyKey === undefined ? undefined : keyedRow(idempotencyKey);
    return this.write(rowKey, 'POST /api/products/:name/reset', { name, username }, 'reset', answer, (at, ref) => ({
      type: 'reset',
      name,
      username,
      at,
      request: ref.key,
      attempt: ref.attempt,
    }));
  }

  /** The current statistics of `name`; 404 when it has no scores. */
  async current(name: string): Promise<CurrentStats> {
    return currentStatsOfText(await this.currentText(name));
  }

  /** The current statistics of `name` as PostgreSQL's text (a GET's body is made from it); 404 when it has no scores. */
  async currentText(name: string): Promise<StatsText> {
    const row = await this.stats.load(name);
    if (!row) throw new ApiError(404, 'not_found', `no product named ${JSON.stringify(name)} has scores`, 'name');
    return row;
  }

  /**
   * One write: claim its request (with a key: 409, 422, or the first answer), send its message,
   * wait until it is applied, answer. Every way to a 503 abandons the request first, unless the
   * message was never sent; a request the consumer marked applied first is answered as applied.
   */
  private async write(
    rowKey: string | undefined,
    route: string,
    fields: unknown,
    what: 'push' | 'reset',
    answerOf: (a: Applied) => Promise<unknown>,
    message: (at: number, ref: RequestRef) => ScoreMessage,
  ): Promise<unknown> {
    const at = Date.now();
    const deadline = at + this.deps.pushTimeoutMs;
    let ref: RequestRef;
    if (rowKey === undefined) ref = unkeyedRequest();
    else {
      const claim = await this.deps.requests.claimRow(rowKey, fingerprint(route, fields), deadline, at);
      if (claim.kind === 'answered') return claim.answer;
      if (claim.kind === 'applied') return this.keep(claim.ref, await answerOf({ at: claim.at }), what);
      ref = claim.ref;
    }
    const name = (fields as { name: string }).name;
    const [applied] = await this.sendAndWaitAll(what, [{ ref, name, value: encode(message(at, ref)) }], at, deadline);
    if (applied instanceof Error) throw applied;
    return this.keep(ref, await answerOf(applied), what);
  }

  /**
   * Pushes without Idempotency-Key (a batch's), sent and waited for as one group: one deadline,
   * one timer, one wait; each one's answer, or the error it would have been answered with alone.
   */
  async pushAll(pushes: readonly PushRequest[]): Promise<unknown[]> {
    const at = Date.now();
    const writes = pushes.map((push) => {
      const ref = unkeyedRequest();
      return { ref, name: push.name, value: encode(pushMessage(push, at, ref)) };
    });
    const applied = await this.sendAndWaitAll('push', writes, at, at + this.deps.pushTimeoutMs);
    return Promise.all(applied.map(async (a, i) => (a instanceof Error ? a : this.pushAnswer(pushes[i].name, a).catch((err: unknown) => err as Error))));
  }

  /**
   * Send a group of writes' messages and wait until each is applied: where each was applied (with
   * the statistics its batch handed over), or the error its request is answered with.
   */
  private async sendAndWaitAll(what: 'push' | 'reset', writes: readonly Outgoing[], at: number, deadline: number): Promise<(Applied | Error)[]> {
    const sent = await this.deps.sender.sendAll(
      this.deps.topic,
      writes.map((w) => ({ key: w.name, value: w.value })),
      deadline,
    );
    const placed: { index: number; partition: number; offset: bigint; name: string }[] = [];
    sent.forEach((p, index) => {
      if (!(p instanceof NotSentError)) placed.push({ index, partition: p.partition, offset: p.offset, name: writes[index].name });
    });
    const outcomes = await this.deps.tracker.waitAppliedAll(placed, Math.max(1, deadline - Date.now()));
    const waited: (Outcome | NotAppliedError)[] = [];
    placed.forEach((p, k) => (waited[p.index] = outcomes[k]));
    return Promise.all(writes.map((w, i) => this.settle(what, w.ref, sent[i], waited[i], at).catch((err: unknown) => err as Error)));
  }

  /**
   * Where one write ended: applied, or abandoned (answered 503 or 500) unless the consumer was
   * first; a message never sent and without a key has nothing to abandon.
   */
  private async settle(
    what: 'push' | 'reset',
    ref: RequestRef,
    sent: Placement | NotSentError,
    waited: Outcome | NotAppliedError | undefined,
    at: number,
  ): Promise<Applied> {
    if (sent instanceof NotSentError) {
      // never sent, and no retry can find it in flight: nothing to abandon
      if (!sent.mayBeInKafka && !ref.keyed) throw sent;
      return { at: await this.abandon(ref, what, sent) };
    }
    try {
      const snapshot = await this.applied(sent, what, waited!);
      return { at: { partition: sent.partition, offset: sent.offset, sentAt: at }, snapshot };
    } catch (err) {
      if (!(err instanceof NotAppliedError) && !(err instanceof ApiError && err.code === 'dead_lettered')) throw err;
      return { at: await this.abandon(ref, what, err) };
    }
  }

  /**
   * The request will be answered `failure` (a 503, a dead letter's 500): mark it abandoned so that
   * it is never applied afterwards. Returns where it was applied when the consumer was first.
   */
  private async abandon(ref: RequestRef, what: 'push' | 'reset', failure: Error): Promise<AppliedAt> {
    let applied: AppliedAt | undefined;
    try {
      applied = await this.deps.requests.abandon(ref);
    } catch (err) {
      this.deps.log.warn(`could not abandon the ${what} ${ref.key}: ${errorMessage(err)}`);
      throw new ApiError(
        503,
        'unavailable',
        `the ${what} was not applied in time and PostgreSQL could not record that it never will be: it may still be applied; ` +
          `retry with the same Idempotency-Key to have it applied once`,
      );
    }
    if (applied) return applied;
    if (failure instanceof NotAppliedError) {
      throw new ApiError(
        503,
        'not_applied',
        `the ${what} was not applied within ${this.deps.pushTimeoutMs / 1000} s and will not be: retry` +
          (ref.keyed ? ' (with the same Idempotency-Key it is applied once)' : ''),
      );
    }
    if (failure instanceof NotSentError) throw new NotSentError(false, `${failure.message}; it will not be applied: retry`);
    throw failure;
  }

  /** With an Idempotency-Key, the answer is kept: the first one kept is the answer (a retry's too). */
  private async keep(ref: RequestRef, answer: unknown, what: 'push' | 'reset'): Promise<unknown> {
    if (!ref.keyed) return answer;
    const kept = await this.deps.requests.recordAnswer(ref, answer);
    if (!kept) throw new ApiError(503, 'not_applied', `the ${what} was superseded by a retry with the same Idempotency-Key; that retry applies it`);
    return kept.answer;
  }

  /** A push's answer: the statistics of its session once it is applied. */
  private async pushAnswer(name: string, a: Applied) {
    const row = a.snapshot && includesPush(a.snapshot, a.at.offset) ? a.snapshot : await this.current(name);
    if (includesPush(row, a.at.offset)) return { name: row.name, ...view(row) };
    // A reset applied after this push ended its session: answer with that session.
    const ended = await sessionOfPush(this.deps.pool, name, a.at.partition, a.at.offset);
    if (!ended) throw new ApiError(503, 'not_applied', 'the push was applied but its session could not be read; retry the read');
    return { name, ...ended };
  }

  /**
   * Read-your-writes: the message at `p` was waited for (`outcome`); the current statistics of its
   * name when the applying batch handed them over. A message it could not apply (dead-lettered) is
   * a 500: it was accepted but will never be in the statistics.
   */
  private async applied(p: Placement, what: 'push' | 'reset', outcome: Outcome | NotAppliedError): Promise<CurrentStats | undefined> {
    if (outcome instanceof NotAppliedError) throw outcome;
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

/** A push's message, under its request. */
function pushMessage(push: PushRequest, at: number, ref: RequestRef): ScoreMessage {
  return { type: 'push', ...push, at, request: ref.key, attempt: ref.attempt };
}
