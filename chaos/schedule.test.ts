import { prng } from '../libs/random';
import { appliedShare, killLands, killPlan, nextDue, Planned, rolesPlan, spread, unannounced } from './schedule';

describe('spread', () => {
  test('puts the first point at the start, the last at the end, the others evenly between', () => {
    expect(spread(5, 0.1, 0.9).map((x) => Math.round(x * 100) / 100)).toEqual([0.1, 0.3, 0.5, 0.7, 0.9]);
    expect(spread(1, 0.2, 0.6)).toEqual([0.4]);
    expect(spread(0, 0, 1)).toEqual([]);
  });
});

describe('killPlan', () => {
  test("holds every kill announced, of each role, each due at its own point of progress before the work's end", () => {
    const plan = killPlan({ products: 8, followers: 8 }, prng(3));
    const count = (role: string) => plan.filter((p) => p.kind === role).length;
    expect([plan.length, count('products-consumer'), count('product-count')]).toEqual([16, 8, 8]);
    const points = plan.map((p) => p.at);
    expect(points).toEqual([...points].sort((a, b) => a - b));
    expect(new Set(points).size).toBe(16);
    expect([points[0], Math.round(points[15] * 100) / 100]).toEqual([0.05, 0.6]);
  });

  test('mixes the roles over the work (a seeded order), so the process of the relay and the product-count consumer is not killed last', () => {
    const plan = killPlan({ products: 8, followers: 8 }, prng(3));
    const firstHalf = plan.slice(0, 8).map((p) => p.kind);
    expect(new Set(firstHalf).size).toBe(2);
    expect(killPlan({ products: 8, followers: 8 }, prng(3))).toEqual(plan);
    expect(killPlan({ products: 8, followers: 8 }, prng(4)).map((p) => p.kind)).not.toEqual(plan.map((p) => p.kind));
  });
});

describe('rolesPlan', () => {
  test("any roles (a dataset's parts): each kill of each, in a seeded order, spread over [from, to]", () => {
    const plan = rolesPlan(
      [
        ['dataset-consumer', 4],
        ['dataset-aggregates', 3],
      ],
      prng(5),
    );
    expect(plan.filter((p) => p.kind === 'dataset-consumer').length).toBe(4);
    expect(plan.filter((p) => p.kind === 'dataset-aggregates').length).toBe(3);
    expect([plan[0].at, Math.round(plan[6].at * 100) / 100]).toEqual([0.05, 0.6]);
    expect(rolesPlan([['x', 2]], prng(5), 0.2, 0.4).map((p) => p.at)).toEqual([0.2, 0.4]);
  });
});

describe('nextDue', () => {
  const plan: Planned<'a' | 'b'>[] = [
    { kind: 'a', at: 0.1 },
    { kind: 'b', at: 0.2 },
    { kind: 'a', at: 0.5 },
  ];
  const up = () => true;

  test('nothing before its point of progress; then the first not yet done', () => {
    expect(nextDue(plan, [false, false, false], 0.05, up)).toBeUndefined();
    expect(nextDue(plan, [false, false, false], 0.1, up)).toBe(0);
    expect(nextDue(plan, [true, false, false], 0.3, up)).toBe(1);
    expect(nextDue(plan, [true, true, false], 0.3, up)).toBeUndefined();
    expect(nextDue(plan, [true, true, false], 1, up)).toBe(2);
    expect(nextDue(plan, [true, true, true], 1, up)).toBeUndefined();
  });

  test('a fault whose target is not up waits (never skipped) while the ones after it that are go first', () => {
    const bDown = (kind: string) => kind !== 'b';
    expect(nextDue(plan, [true, false, false], 0.6, bDown)).toBe(2);
    expect(nextDue(plan, [true, false, true], 0.6, bDown)).toBeUndefined();
    expect(nextDue(plan, [true, false, true], 0.6, up)).toBe(1);
  });

  test('progress that jumps past several points makes each of them due, one at a time', () => {
    const done = [false, false, false];
    const order: number[] = [];
    for (let i = nextDue(plan, done, 1, up); i !== undefined; i = nextDue(plan, done, 1, up)) {
      done[i] = true;
      order.push(i);
    }
    expect(order).toEqual([0, 1, 2]);
  });
});

describe('unannounced', () => {
  const announced = ['SIGKILL products-consumer', 'SIGKILL products-consumer', 'SIGKILL product-count-producer'];

  test('nothing when every announced fault was injected, in any order', () => {
    expect(unannounced(announced, ['SIGKILL product-count-producer', 'SIGKILL products-consumer', 'SIGKILL products-consumer'])).toEqual([]);
  });

  test('fewer faults than announced: each kind short of its count', () => {
    expect(unannounced(announced, ['SIGKILL products-consumer', 'SIGKILL products-consumer'])).toEqual([
      'announced 1 × SIGKILL product-count-producer, injected 0',
    ]);
    expect(unannounced(announced, [])).toEqual([
      'announced 2 × SIGKILL products-consumer, injected 0',
      'announced 1 × SIGKILL product-count-producer, injected 0',
    ]);
  });

  test('another kind of fault than announced (the sigkill run that only killed products consumers), or more of one', () => {
    const eightOfOneKind = Array<string>(8).fill('SIGKILL products-consumer');
    expect(unannounced(['SIGKILL products-consumer', 'SIGKILL product-count-consumer'], eightOfOneKind)).toEqual([
      'announced 1 × SIGKILL products-consumer, injected 8',
      'announced 1 × SIGKILL product-count-consumer, injected 0',
    ]);
    expect(unannounced([], ['PostgreSQL 15 restarted'])).toEqual(['injected 1 × PostgreSQL 15 restarted, which it did not announce']);
  });
});

describe('appliedShare', () => {
  test('the records applied since the run began, as a share of its records, at most 1', () => {
    expect(appliedShare(0n, { start: 0n, records: 40_000 }, false)).toBe(0);
    expect(appliedShare(10_000n, { start: 0n, records: 40_000 }, false)).toBe(0.25);
    expect(appliedShare(50_000n, { start: 40_000n, records: 20_000 }, false)).toBe(0.5);
    expect(appliedShare(41_000n, { start: 0n, records: 40_000 }, false)).toBe(1); // a resend the broker kept twice
  });

  test('a run that sets the offsets back (rebuild) is at 0 until that is seen, then counts from the log start', () => {
    const rebuild = { start: 45_000n, records: 45_000, resetTo: 0n };
    expect(appliedShare(45_000n, rebuild, false)).toBe(0);
    expect(appliedShare(9_000n, rebuild, true)).toBe(0.2);
  });

  test('a run with nothing to apply is done', () => {
    expect(appliedShare(5n, { start: 5n, records: 0 }, false)).toBe(1);
  });
});

describe('killLands', () => {
  test('while any work of the run is left, whatever it is: the run cannot end before the kill', () => {
    expect(killLands({ products: true, marks: false, recounts: false })).toBe(true);
    expect(killLands({ products: false, marks: true, recounts: false })).toBe(true);
    expect(killLands({ products: false, marks: false, recounts: true })).toBe(true);
    expect(killLands({ products: false, marks: false, recounts: false })).toBe(false);
  });
});
