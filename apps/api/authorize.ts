import { createHash, timingSafeEqual } from 'crypto';
import { ApiError } from './validate';

/** Checks a request's Authorization header; throws the 401 to answer. */
export type Authorize = (authorization: string | undefined) => void;

/** With a token, the writes need `Authorization: Bearer <token>`; without one, anybody may write. */
export function authorizer(apiToken: string | undefined): Authorize {
  const expected = apiToken ? digest(apiToken) : undefined;
  return (authorization) => {
    if (!expected) return;
    const m = /^Bearer (.+)$/i.exec(authorization ?? '');
    if (!m) throw new ApiError(401, 'unauthorized', 'this endpoint needs Authorization: Bearer <DASY_API_TOKEN>', 'authorization');
    if (!timingSafeEqual(digest(m[1].trim()), expected)) throw new ApiError(401, 'unauthorized', 'the bearer token is not valid', 'authorization');
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
