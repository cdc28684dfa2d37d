import { readiness } from './health';

test('ready when every check passes', async () => {
  expect(await readiness({ postgresql: async () => undefined, kafka: async () => undefined })).toEqual({
    status: 'ready',
    checks: { postgresql: 'ok', kafka: 'ok' },
  });
});

test('not ready: each failing check with its reason, a check that hangs fails at the deadline', async () => {
  const report = await readiness(
    {
      postgresql: async () => undefined,
      kafka: () => new Promise(() => undefined),
      consumers: async () => {
        throw new Error('not a member of its group (yet): ns.scores-consumer');
      },
    },
    50,
  );
  expect(report).toEqual({
    status: 'not ready',
    checks: { postgresql: 'ok', kafka: 'no answer within 0.05 s', consumers: 'not a member of its group (yet): ns.scores-consumer' },
    reason: 'kafka: no answer within 0.05 s; consumers: not a member of its group (yet): ns.scores-consumer',
  });
});
