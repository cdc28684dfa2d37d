import * as fc from 'fast-check';
import { exactMoments, isCorrectlyRounded, isCorrectlyRoundedSqrt } from '../../test/exact';
import { fuzzParams, fuzzTimeout } from '../../test/fuzz';
import { chanMerge, EMPTY, Moments, summarize, view, welford } from './index';

/**
 * Properties of the statistics against an exact rational reference (test/exact.ts): for every
 * finite score from 0 to 5, subnormals included, the mean and the population standard deviation
 * are the exact values correctly rounded (to nearest, ties to even), whatever the counts and
 * however the summaries are merged.
 */

const SPECIAL = [0, 5, Number.MIN_VALUE, 2 * Number.MIN_VALUE, 2 ** -1022, 2 ** -1022 - Number.MIN_VALUE, 1e-170, 1e-300, 0.1, 1 / 3, 4.999999999999999, 2.5];

/** Any score: every double in [0, 5] (fast-check spreads them over the exponents), common decimals, edge values. */
const score = fc.oneof(
  fc.double({ min: 0, max: 5, noNaN: true }).map((x) => (x === 0 ? 0 : x)),
  fc.integer({ min: 0, max: 5000 }).map((i) => i / 1000),
  fc.constantFrom(...SPECIAL),
);

const RUNS = 300;

function expectExact(s: Moments, values: { x: number; count: bigint }[]) {
  const exact = exactMoments(values);
  const v = view(s);
  expect(v.count).toBe(Number(exact.n));
  const mean = v.mean!;
  const stddev = v.stddev!;
  if (!isCorrectlyRounded(mean, exact.mean)) throw new Error(`mean ${mean} is not the exact mean correctly rounded`);
  if (!isCorrectlyRoundedSqrt(stddev, exact.variance)) throw new Error(`stddev ${stddev} is not the exact stddev correctly rounded`);
  expect(v.min).toBe(Math.min(...values.map((p) => p.x)));
  expect(v.max).toBe(Math.max(...values.map((p) => p.x)));
}

const once = (xs: number[]) => xs.map((x) => ({ x, count: 1n }));

test(
  'Welford: mean and stddev of any scores are the exact values correctly rounded',
  () => {
    fc.assert(
      fc.property(fc.array(score, { minLength: 1, maxLength: 40 }), (xs) => expectExact(summarize(xs), once(xs))),
      fuzzParams(RUNS),
    );
  },
  fuzzTimeout(RUNS, 20000),
);

test('the reported case: 0 then 1e-170 (the products underflowed float8 in the merge)', () => {
  const s = welford(welford(EMPTY, 0), 1e-170);
  expect(view(s)).toEqual({ count: 2, mean: 5e-171, stddev: 5e-171, min: 0, max: 1e-170 });
  expect(view(chanMerge(summarize([0]), summarize([1e-170])))).toEqual(view(s));
  expect(view(chanMerge(summarize([1e-170]), summarize([0])))).toEqual(view(s));
});

/** Cut xs into chunks at the given points and merge their summaries along a random tree. */
function mergeTree(parts: Moments[], picks: number[]): Moments {
  const work = [...parts];
  let i = 0;
  while (work.length > 1) {
    const k = picks[i++ % picks.length] % (work.length - 1);
    work.splice(k, 2, chanMerge(work[k], work[k + 1]));
  }
  return work[0] ?? EMPTY;
}

test(
  'Chan: summaries of chunks merged in any order and any tree give exactly the summary of the whole',
  () => {
    fc.assert(
      fc.property(
        fc.array(score, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (xs, cutsRaw, picks, reverse) => {
          const cuts = [...new Set(cutsRaw.map((c) => c % (xs.length + 1)))].sort((a, b) => a - b);
          const bounds = [0, ...cuts, xs.length];
          let parts = bounds.slice(1).map((end, i) => summarize(xs.slice(bounds[i], end)));
          if (reverse) parts = parts.reverse();
          const merged = mergeTree(parts, picks);
          expect(view(merged)).toEqual(view(summarize(xs)));
          expectExact(merged, once(xs));
        },
      ),
      fuzzParams(RUNS),
    );
  },
  fuzzTimeout(RUNS, 20000),
);

/** The summary of `count` copies of x, by doubling merges (log2(count) of them). */
function copies(x: number, count: bigint): Moments {
  let result = EMPTY;
  let power = welford(EMPTY, x);
  for (let c = count; c > 0n; c >>= 1n) {
    if (c & 1n) result = chanMerge(result, power);
    power = chanMerge(power, power);
  }
  return result;
}

test(
  'huge counts: summaries of up to 2^47 pushes each merge to the exact statistics, correctly rounded',
  () => {
    const group = fc.record({ x: score, count: fc.bigInt({ min: 1n, max: 2n ** 47n }) });
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 5 }), (groups) => {
        const merged = groups.map((g) => copies(g.x, g.count)).reduce(chanMerge, EMPTY);
        expectExact(merged, groups);
      }),
      fuzzParams(100),
    );
  },
  fuzzTimeout(100, 20000),
);
