import { isRetriable } from '../../libs/errors/classify';
import { DasyError, errorMessage, UnavailableError } from '../../libs/errors';
import { Logger } from '../../libs/log';
import { ApiError } from './validate';

/** What a failed request is answered with: the error in our format and its headers. */
export interface ShownError {
  e: ApiError;
  headers: Record<string, string>;
}

/** The error a client sees and its headers, logged when it is ours (500) or an outage. */
export function shownError(log: Logger, err: Error & { statusCode?: number; code?: string }, method: string, url: string): ShownError {
  const e = toApiError(err);
  if (e.code === 'internal') {
    log.error(`${method} ${url}: ${errorMessage(err)}`, { stack: err.stack, cause: (err as DasyError).cause });
  } else if (e.code === 'unavailable' && !(err instanceof ApiError)) {
    log.warn(`${method} ${url.split('?')[0]}: ${errorMessage(err)}`);
  }
  const headers: Record<string, string> = {};
  if (e.statusCode === 401) headers['www-authenticate'] = 'Bearer';
  if (e.statusCode === 503) headers['retry-after'] = '1';
  return { e, headers };
}

export const stoppingError = () => new ApiError(503, 'unavailable', 'the api is stopping; retry');

/** Whatever went wrong, as the error a client may see. */
export function toApiError(err: Error & { statusCode?: number; code?: string }): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof UnavailableError || isRetriable(err)) {
    return new ApiError(503, 'unavailable', 'a backing service (PostgreSQL or Kafka) is unavailable; retry later');
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    // a client error of a library (statusCode 4xx): its message is safe to show
    return new ApiError(err.statusCode, 'bad_request', err.message);
  }
  return new ApiError(500, 'internal', 'internal error');
}
