import { RestartPolicy } from './restart-policy';

const ceilings = { random: () => 0.999999 }; // each jittered wait at its ceiling (rounded down)

describe('RestartPolicy', () => {
  test('a part killed after it ran a while is restarted at once, however often that happens', () => {
    const policy = new RestartPolicy({ stableMs: 5000, ...ceilings });
    expect([policy.delayAfter(60_000), policy.delayAfter(5000), policy.delayAfter(7000)]).toEqual([0, 0, 0]);
  });

  test('one that keeps dying soon after its start (by a signal or not, it is not asked) waits longer each time, up to the cap', () => {
    const policy = new RestartPolicy({ stableMs: 5000, initialMs: 300, maxMs: 2000, ...ceilings });
    const delays = [100, 50, 900, 10, 3000, 200].map((ran) => policy.delayAfter(ran));
    expect(delays).toEqual([0, 299, 599, 1199, 1999, 1999]);
  });

  test('a run that lasted starts the count over: the next early death is restarted at once again', () => {
    const policy = new RestartPolicy({ stableMs: 5000, initialMs: 300, ...ceilings });
    expect([policy.delayAfter(100), policy.delayAfter(100), policy.delayAfter(100)]).toEqual([0, 299, 599]);
    expect([policy.delayAfter(10_000), policy.delayAfter(100), policy.delayAfter(100)]).toEqual([0, 0, 299]);
  });

  test('the backoff is jittered: two parts dying together do not come back together', () => {
    const draws = [0.1, 0.9];
    const a = new RestartPolicy({ stableMs: 5000, initialMs: 1000, random: () => draws[0] });
    const b = new RestartPolicy({ stableMs: 5000, initialMs: 1000, random: () => draws[1] });
    a.delayAfter(10);
    b.delayAfter(10);
    expect([a.delayAfter(10), b.delayAfter(10)]).toEqual([100, 900]);
  });
});
