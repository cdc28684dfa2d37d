/**
 * An exact rational reference for the statistics' property tests, independent of libs/stats:
 * fractions of BigInts, the two-pass definitions of mean and variance, and checks that a double is
 * the correctly rounded (to nearest, ties to even) value of an exact quantity.
 */
export class Fraction {
  readonly num: bigint;
  readonly den: bigint;

  constructor(num: bigint, den: bigint = 1n) {
    if (den === 0n) throw new Error('zero denominator');
    if (den < 0n) {
      num = -num;
      den = -den;
    }
    const g = gcd(num < 0n ? -num : num, den);
    this.num = num / g;
    this.den = den / g;
  }

  static of(x: number): Fraction {
    const { mantissa, exponent } = decompose(x);
    return exponent >= 0 ? new Fraction(mantissa << BigInt(exponent)) : new Fraction(mantissa, 1n << BigInt(-exponent));
  }

  add(o: Fraction): Fraction {
    return new Fraction(this.num * o.den + o.num * this.den, this.den * o.den);
  }
  sub(o: Fraction): Fraction {
    return new Fraction(this.num * o.den - o.num * this.den, this.den * o.den);
  }
  mul(o: Fraction): Fraction {
    return new Fraction(this.num * o.num, this.den * o.den);
  }
  div(o: Fraction): Fraction {
    return new Fraction(this.num * o.den, this.den * o.num);
  }
  cmp(o: Fraction): number {
    const d = this.num * o.den - o.num * this.den;
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}

const view = new DataView(new ArrayBuffer(8));

/** x = mantissa · 2^exponent exactly (x finite). */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biased === 0x7ff) throw new Error(`not finite: ${x}`);
  if (biased === 0) return { mantissa: sign * fraction, exponent: -1074 };
  return { mantissa: sign * (fraction | (1n << 52n)), exponent: biased - 1075 };
}

/** The neighbouring doubles of a finite x >= 0 (below 0: the negative of the smallest subnormal). */
function neighbours(x: number): { below: Fraction; above: Fraction } {
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, bits + 1n);
  const above = Fraction.of(view.getFloat64(0));
  if (bits === 0n) return { below: Fraction.of(-Number.MIN_VALUE), above };
  view.setBigUint64(0, bits - 1n);
  return { below: Fraction.of(view.getFloat64(0)), above };
}

function evenSignificand(x: number): boolean {
  view.setFloat64(0, x);
  return (view.getBigUint64(0) & 1n) === 0n;
}

const TWO = new Fraction(2n);

/** Whether the double r >= 0 is the value t >= 0 rounded to nearest, ties to even. */
export function isCorrectlyRounded(r: number, t: Fraction): boolean {
  if (!(r >= 0) || !Number.isFinite(r)) return false;
  const { below, above } = neighbours(r);
  const rf = Fraction.of(r);
  const low = below.add(rf).div(TWO);
  const high = rf.add(above).div(TWO);
  const a = low.cmp(t);
  const b = t.cmp(high);
  if (a > 0 || b > 0) return false;
  return (a < 0 && b < 0) || evenSignificand(r);
}

/** Whether the double r >= 0 is sqrt(v) rounded to nearest, ties to even (v >= 0, exact). */
export function isCorrectlyRoundedSqrt(r: number, v: Fraction): boolean {
  if (!(r >= 0) || !Number.isFinite(r)) return false;
  const { below, above } = neighbours(r);
  const rf = Fraction.of(r);
  const low = below.add(rf).div(TWO);
  const high = rf.add(above).div(TWO);
  // compare squares: all of low (when >= 0), high and sqrt(v) are >= 0
  const a = low.num < 0n ? -1 : low.mul(low).cmp(v);
  const b = v.cmp(high.mul(high));
  if (a > 0 || b > 0) return false;
  return (a < 0 && b < 0) || evenSignificand(r);
}

/** Mean and population variance by their definitions (two passes), exactly; values with counts. */
export function exactMoments(values: { x: number; count: bigint }[]): { n: bigint; mean: Fraction; variance: Fraction } {
  let n = 0n;
  let sum = new Fraction(0n);
  for (const { x, count } of values) {
    n += count;
    sum = sum.add(Fraction.of(x).mul(new Fraction(count)));
  }
  const mean = sum.div(new Fraction(n));
  let m2 = new Fraction(0n);
  for (const { x, count } of values) {
    const d = Fraction.of(x).sub(mean);
    m2 = m2.add(d.mul(d).mul(new Fraction(count)));
  }
  return { n, mean, variance: m2.div(new Fraction(n)) };
}
