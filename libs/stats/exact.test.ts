import { add, exactOf, fromDecimal, isqrt, roundRatio, roundSqrtRatio, toDecimal } from './exact';

describe('exact values of doubles', () => {
  test('a double is its exact binary fraction, trailing zero bits dropped', () => {
    expect(exactOf(0)).toEqual({ num: 0n, exp: 0 });
    expect(exactOf(4)).toEqual({ num: 1n, exp: 2 });
    expect(exactOf(3.5)).toEqual({ num: 7n, exp: -1 });
    expect(exactOf(Number.MIN_VALUE)).toEqual({ num: 1n, exp: -1074 });
    expect(exactOf(2 ** -1022)).toEqual({ num: 1n, exp: -1022 });
    expect(exactOf(0.1)).toEqual({ num: 3602879701896397n, exp: -55 });
  });

  test('decimal notation is exact and reads back to the same value', () => {
    expect(toDecimal(exactOf(0.1))).toBe('0.1000000000000000055511151231257827021181583404541015625');
    expect(toDecimal(exactOf(4.5))).toBe('4.5');
    expect(toDecimal(exactOf(0))).toBe('0');
    expect(toDecimal(add(exactOf(0.25), exactOf(0.75)))).toBe('1');
    const tiny = toDecimal(exactOf(Number.MIN_VALUE));
    expect(tiny.length).toBe(2 + 1074); // "0." and 1074 digits: 2^-1074 = 5^1074 / 10^1074
    expect(tiny.startsWith('0.000')).toBe(true);
    for (const x of [0.1, 4.5, 0, Number.MIN_VALUE, 1e-170, 4.999999999999999]) {
      expect(fromDecimal(toDecimal(exactOf(x)))).toEqual(exactOf(x));
    }
    expect(fromDecimal('12.5000')).toEqual({ num: 25n, exp: -1 });
  });

  test('a decimal that is not a binary fraction, or not a numeral, is refused', () => {
    expect(() => fromDecimal('0.1')).toThrow(RangeError);
    expect(() => fromDecimal('NaN')).toThrow(RangeError);
    expect(() => fromDecimal('1e5')).toThrow(RangeError);
  });
});

describe('correct rounding', () => {
  test('ratios round to nearest, ties to even, subnormals included', () => {
    expect(roundRatio(1n, 3n)).toBe(1 / 3);
    expect(roundRatio(1n, 10n)).toBe(0.1);
    expect(roundRatio(2n ** 53n + 1n, 1n)).toBe(2 ** 53); // a tie: to the even significand
    expect(roundRatio(2n ** 53n + 3n, 1n)).toBe(2 ** 53 + 4);
    expect(roundRatio(1n, 2n ** 1075n)).toBe(0); // half the smallest subnormal: a tie, to 0 (even)
    expect(roundRatio(3n, 2n ** 1076n)).toBe(Number.MIN_VALUE);
    expect(roundRatio(2n ** 52n - 1n, 2n ** 1074n)).toBe(2 ** -1022 - Number.MIN_VALUE); // the largest subnormal
    expect(roundRatio((2n ** 53n - 1n) * 2n + 1n, 2n ** 1075n)).toBe(2 ** -1021); // rounding carries into the next binade
  });

  test('square roots of ratios round to nearest', () => {
    expect(roundSqrtRatio(2n, 1n)).toBe(Math.SQRT2);
    expect(roundSqrtRatio(1n, 4n)).toBe(0.5);
    expect(roundSqrtRatio(1n, 2n ** 2148n)).toBe(Number.MIN_VALUE);
    expect(roundSqrtRatio(10n ** 40n, 1n)).toBe(1e20);
    expect(roundSqrtRatio(9n, 4n)).toBe(1.5);
  });

  test('isqrt is the integer square root', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 2n ** 200n - 1n, 2n ** 200n, 10n ** 700n + 12345n]) {
      const r = isqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
    }
  });
});
