import { UnavailableError } from '../../libs/errors';
import { EMPTY } from '../../libs/stats';
import { BODY_LIMIT } from './body';
import { toApiError } from './errors';
import { isPlainPush } from './fast-push';
import { includesPush } from './store';
import { ApiError } from './validate';

const shown = (err: Error) => toApiError(err).body().error;

test('fastify client errors become our format', () => {
  const e = (code: string, statusCode: number, message = 'x') => Object.assign(new Error(message), { code, statusCode });
  expect([toApiError(e('FST_ERR_CTP_BODY_TOO_LARGE', 413)).statusCode, shown(e('FST_ERR_CTP_BODY_TOO_LARGE', 413))]).toEqual([
    413,
    { code: 'payload_too_large', message: 'the request body is larger than 1 MiB (1048576 bytes)', field: null },
  ]);
  expect(toApiError(e('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)).statusCode).toBe(415);
  expect(shown(e('FST_ERR_SOMETHING', 400, 'bad header'))).toEqual({ code: 'bad_request', message: 'bad header', field: null });
});

test('outages are 503; anything unexpected is a 500 that shows nothing of the cause', () => {
  expect(toApiError(new UnavailableError('kafka down')).statusCode).toBe(503);
  expect(toApiError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect' })).statusCode).toBe(503);
  const internal = toApiError(new TypeError("Cannot read properties of undefined (reading 'x')"));
  expect([internal.statusCode, internal.body()]).toEqual([500, { error: { code: 'internal', message: 'internal error', field: null } }]);
  const mine = new ApiError(404, 'not_found', 'no', 'name');
  expect(toApiError(mine)).toBe(mine);
});

test('a session includes a push unless a reset after the push started it', () => {
  const s = (started_offset: bigint | null) => ({
    name: 'n',
    session: 1,
    ...EMPTY,
    first_at: null,
    last_at: null,
    started_offset,
  });
  expect(includesPush(s(null), 5n)).toBe(true);
  expect(includesPush(s(4n), 5n)).toBe(true);
  expect(includesPush(s(6n), 5n)).toBe(false);
});

test('the fast path takes only plain JSON pushes; fastify answers the rest', () => {
  const req = (headers: Record<string, string>, method = 'POST', url = '/api/push') => ({ method, url, headers });
  const json = { 'content-type': 'application/json', 'content-length': '30' };
  expect(isPlainPush(req(json))).toBe(true);
  expect(isPlainPush(req({ ...json, 'content-type': 'Application/JSON; charset=UTF-8' }))).toBe(true);
  expect(isPlainPush(req(json, 'POST', '/api/push?x=1'))).toBe(false);
  expect(isPlainPush(req(json, 'GET'))).toBe(false);
  expect(isPlainPush(req({ ...json, 'content-type': 'text/plain' }))).toBe(false);
  expect(isPlainPush(req({ ...json, 'content-type': 'application/json; charset=latin1' }))).toBe(false);
  expect(isPlainPush(req({ 'content-type': 'application/json' }))).toBe(false); // no length: chunked or empty
  expect(isPlainPush(req({ ...json, 'transfer-encoding': 'chunked' }))).toBe(false);
  expect(isPlainPush(req({ ...json, 'content-length': String(BODY_LIMIT) }))).toBe(true);
  expect(isPlainPush(req({ ...json, 'content-length': String(BODY_LIMIT + 1) }))).toBe(false); // fastify's 413
});
