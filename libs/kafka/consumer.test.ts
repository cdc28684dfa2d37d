import { clientConsumerConfig, messageOf } from './consumer';

test("a message of the port carries the client's own Buffers (no copy) and its offset as a bigint", () => {
  const key = Buffer.from('k');
  const value = Buffer.from('v');
  const message = messageOf({ key, value, offset: '9007199254740993', timestamp: '1700000000000', attributes: 0, headers: undefined } as never);
  expect(message.key).toBe(key);
  expect(message.value).toBe(value);
  expect([message.offset, message.timestamp, message.headers]).toEqual([9007199254740993n, '1700000000000', {}]);
  expect(messageOf({ key: null, value: null, offset: '0', timestamp: '0', attributes: 0 } as never).key).toBeNull();
});

test('restartOnFailure: false is a client that never restarts a crashed consumer itself', async () => {
  const config = clientConsumerConfig({ groupId: 'g', retry: { retries: 3 }, restartOnFailure: false });
  expect([config.groupId, config.retry?.retries, await config.retry?.restartOnFailure?.(new Error('x'))]).toEqual(['g', 3, false]);
  expect(clientConsumerConfig({ groupId: 'g' }).retry).toBeUndefined();
});
