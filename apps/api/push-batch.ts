import { Logger } from '../../libs/log';
import { errorMessage } from '../../libs/errors';
import { shownError } from './errors';
import { fingerprint, RequestRef, ScoreRequests } from './score-requests';
import { ScoreWrites } from './score-writes';
import { ApiError, PushRequest, validatePush } from './validate';

/** The most pushes one batch holds. */
export const BATCH_MAX = 1000;

const ROUTE = 'POST /api/push/batch';

/**
 * How much longer than a push a batch's own row stays in flight: a retry after that takes it over.
 * Its pushes' rows are claimed after it, so they may outlive it by the time their claims took.
 */
const BATCH_MARGIN_MS = 2000;

/** One push of a batch as validated: the push, or why it is refused. */
export type BatchItem = { push: PushRequest } | { error: ApiError };

/** One push's outcome: its statistics once applied, or its error (as a single push's, in `error`). */
export interface BatchOutcome {
  index: number;
  status: number;
  stats?: unknown;
  error?: { code: string; message: string; field: string | null };
}

export interface BatchAnswer {
  /** how many pushes were applied */
  applied: number;
  /** how many were not (refused or failed) */
  failed: number;
  /** one per push, in the batch's order */
  results: BatchOutcome[];
}

/**
 * `POST /api/push/batch` body: a JSON array of 1 to BATCH_MAX pushes, each validated as a single
 * push. A refused push does not refuse the batch: its error names it by index (`field`
 * `<index>.<field>`, or `<index>` when the push is not an object).
 */
export function validateBatch(body: unknown): BatchItem[] {
  if (!Array.isArray(body)) throw new ApiError(400, 'invalid_body', 'the request body must be a JSON array of pushes');
  if (body.length === 0) throw new ApiError(400, 'empty', 'a batch must hold at least one push');
  if (body.length > BATCH_MAX) throw new ApiError(400, 'too_many_pushes', `a batch holds at most ${BATCH_MAX} pushes, not ${body.length}`);
  return body.map((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return { error: new ApiError(400, 'invalid_body', `push ${index} must be a JSON object`, String(index)) };
    }
    try {
      return { push: validatePush(item) };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return { error: new ApiError(err.statusCode, err.code, `push ${index}: ${err.message}`, err.field === null ? String(index) : `${index}.${err.field}`) };
    }
  });
}

/** A batch's own row in `score_requests`, and each of its pushes' rows: stable across retries. */
const batchRow = (key: string) => `B:${key}`;
const pushRow = (key: string, index: number) => `b:${index}:${key}`;

export interface PushBatchesDeps {
  scores: ScoreWrites;
  requests: ScoreRequests;
  log: Logger;
  pushTimeoutMs: number;
}

/**
 * Batches of pushes, answered once every push is answered. Each push is a request of its own (as
 * a single push: fenced, applied once); with an Idempotency-Key the batch has a row too: a retry
 * of the same batch is answered with the first answer, a batch whose answer holds a 5xx is not
 * remembered (its retry applies what was not applied; what was is answered as it was).
 */
export class PushBatches {
  constructor(private readonly deps: PushBatchesDeps) {}

  async push(body: unknown, idempotencyKey?: string): Promise<BatchAnswer> {
    const items = validateBatch(body);
    if (idempotencyKey === undefined) return this.apply(items, undefined);
    const at = Date.now();
    const fields = items.map((i) => ('push' in i ? i.push : i.error.body()));
    const claim = await this.deps.requests.claimRow(batchRow(idempotencyKey), fingerprint(ROUTE, fields), at + this.deps.pushTimeoutMs + BATCH_MARGIN_MS, at);
    if (claim.kind === 'answered') return claim.answer as BatchAnswer;
    const answer = await this.apply(items, idempotencyKey);
    if (claim.kind === 'applied') return answer; // (a batch's row is applied with its answer: not reached)
    return this.finish(claim.ref, answer);
  }

  private async finish(ref: RequestRef, answer: BatchAnswer): Promise<BatchAnswer> {
    if (answer.results.some((r) => r.status >= 500)) {
      // not remembered: a retry applies the pushes that failed
      await this.deps.requests.abandon(ref).catch((err) => this.deps.log.warn(`could not abandon the batch ${ref.key}: ${errorMessage(err)}`));
      return answer;
    }
    const kept = await this.deps.requests.finishBatch(ref, answer);
    if (!kept) throw new ApiError(503, 'not_applied', 'the batch was superseded by a retry with the same Idempotency-Key; that retry answers it');
    return kept.answer as BatchAnswer;
  }

  private async apply(items: BatchItem[], key: string | undefined): Promise<BatchAnswer> {
    const results = key === undefined ? await this.applyAll(items) : await Promise.all(items.map((item, index) => this.outcome(item, index, key)));
    const applied = results.filter((r) => r.status === 200).length;
    return { applied, failed: results.length - applied, results };
  }

  /** Without a key, the valid pushes go as one group (ScoreWrites.pushAll): one send, one wait. */
  private async applyAll(items: BatchItem[]): Promise<BatchOutcome[]> {
    const valid = items.flatMap((item) => ('push' in item ? [item.push] : []));
    const answers = await this.deps.scores.pushAll(valid);
    let next = 0;
    return items.map((item, index) => ('error' in item ? refused(item.error, index) : this.answered(answers[next++], index)));
  }

  private async outcome(item: BatchItem, index: number, key: string): Promise<BatchOutcome> {
    if ('error' in item) return refused(item.error, index);
    const answer = await this.deps.scores.pushValid(item.push, pushRow(key, index), ROUTE).catch((err: unknown) => err as Error);
    return this.answered(answer, index);
  }

  /** A push's outcome from its answer, or from the error its request would have been answered with alone. */
  private answered(answer: unknown, index: number): BatchOutcome {
    if (!(answer instanceof Error)) return { index, status: 200, stats: answer };
    const { e } = shownError(this.deps.log, answer, 'POST', `/api/push/batch (push ${index})`);
    return { index, status: e.statusCode, error: e.body().error };
  }
}

/** A push refused at validation. */
function refused(error: ApiError, index: number): BatchOutcome {
  return { index, status: error.statusCode, error: error.body().error };
}
