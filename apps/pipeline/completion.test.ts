import { phaseTimings } from './completion';

test('phaseTimings: each phase in seconds since the start of the run', () => {
  const started = 1_000_000;
  expect(
    phaseTimings(started, {
      consumersReady: started + 1_250,
      produced: started + 7_400,
      caughtUp: { productsAt: started + 13_400, outboxAt: started + 15_000, countsAt: started + 18_800 },
    }),
  ).toEqual({ consumersReady: 1.25, produced: 7.4, productsApplied: 13.4, outboxEmpty: 15, countsApplied: 18.8 });
});
