import { UnavailableError } from '../../libs/errors';
import { EMPTY } from '../../libs/stats';
import { toApiError } from './errors';
import { includesPush } from './store';
import { ApiError } from './validate';

const shown = (err: Error) => toApiError(err).body().error;

test('a client error of a library (a 4xx statusCode) shows its message', () => {
  const e = Object.assign(new Error('bad header'), { code: 'SOMETHING', statusCode: 400 });
  expect([toApiError(e).statusCode, shown(e)]).toEqual([400, { code: 'bad_request', message: 'bad header', field: null }]);
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
