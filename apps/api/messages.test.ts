import { KafkaMessage } from '../../libs/kafka/port';
import { PoisonMessageError } from '../../libs/errors';
import { decodeAdEvent, decodeScore, encode } from './messages';

const msg = (value: unknown, offset = 7n): KafkaMessage => ({
  key: null,
  value: value === undefined ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  offset,
  timestamp: '0',
  headers: {},
});

test('a push and a reset round-trip with their offset', () => {
  const push = { type: 'push', name: 'W', score: 2.5, username: null, at: 1700000000000 } as const;
  expect(decodeScore(msg(encode(push).toString(), 42n))).toEqual({ ...push, offset: 42n });
  const reset = { type: 'reset', name: 'W', username: 'ops', at: 1700000000001 } as const;
  expect(decodeScore(msg(encode(reset).toString()))).toEqual({ ...reset, offset: 7n });
});

test('a push and a reset carry their request and attempt (the fence of score-requests.ts)', () => {
  const push = { type: 'push', name: 'W', score: 1, username: null, at: 5, request: 'k:abc', attempt: 2 } as const;
  expect(decodeScore(msg(encode(push).toString(), 3n))).toEqual({ ...push, offset: 3n });
  const reset = { type: 'reset', name: 'W', username: null, at: 5, request: 'r:xyz', attempt: 1 } as const;
  expect(decodeScore(msg(encode(reset).toString(), 4n))).toEqual({ ...reset, offset: 4n });
});

test.each([
  ['no value', undefined],
  ['not JSON', '{'],
  ['an array', [1]],
  ['unknown type', { type: 'x', name: 'W', at: 1 }],
  ['empty name', { type: 'push', name: '', score: 1, at: 1 }],
  ['NUL in name', { type: 'push', name: 'a\u0000', score: 1, at: 1 }],
  ['score out of range', { type: 'push', name: 'W', score: 6, at: 1 }],
  ['score missing', { type: 'push', name: 'W', at: 1 }],
  ['no time', { type: 'push', name: 'W', score: 1 }],
  ['username not a string', { type: 'reset', name: 'W', username: 3, at: 1 }],
  ['a request without its attempt', { type: 'push', name: 'W', score: 1, at: 1, request: 'r:x' }],
  ['an attempt without its request', { type: 'push', name: 'W', score: 1, at: 1, attempt: 1 }],
  ['attempt 0', { type: 'reset', name: 'W', at: 1, request: 'k:x', attempt: 0 }],
  ['an empty request', { type: 'push', name: 'W', score: 1, at: 1, request: '', attempt: 1 }],
])('scores: %s is poison', (_label, value) => {
  expect(() => decodeScore(msg(value))).toThrow(PoisonMessageError);
});

test('ad events', () => {
  const e = { type: 'impression', username: 'u', sdk_version: '1.2', session_id: 's', platform: 'ios', country_code: 'DE', at: 5 } as const;
  expect(decodeAdEvent(msg(encode(e).toString()))).toEqual(e);
  expect(() => decodeAdEvent(msg({ ...e, type: 'click' }))).toThrow(PoisonMessageError);
  expect(() => decodeAdEvent(msg({ ...e, username: undefined }))).toThrow(PoisonMessageError);
});
