import { isRetriable } from '../../libs/errors/classify';
import { DasyError, errorMessage, UnavailableError } from '../../libs/errors';
import { Logger } from '../../libs/log';
import { BODY_LIMIT } from './body';
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
export function toApiError(err: Error & { statusCode?: number; code?: string; validation?: unknown }): ApiError {
  if (err instanceof ApiError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'payload_too_large', `the request body is larger than 1 MiB (${BODY_LIMIT} bytes)`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'send the body as JSON with Content-Type: application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'invalid_body', 'Content-Length does not match the body');
  }
  if (err instanceof UnavailableError || isRetriable(err)) {
    return new ApiError(503, 'unavailable', 'a backing service (PostgreSQL or Kafka) is unavailable; retry later');
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    // fastify's own client errors (malformed request...): their messages are safe to show.
    return new ApiError(err.statusCode, 'bad_request', err.message);
  }
  return new ApiError(500, 'internal', 'internal error');
}
