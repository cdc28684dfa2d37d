/**
 * Exact arithmetic on the values of doubles, and the correctly rounded way back.
 *
 * Every finite double is a dyadic rational m · 2^e (integer m, e from -1074), and sums and
 * products of dyadic rationals are dyadic: a `Dyadic` holds one exactly, as a BigInt and an
 * exponent. Sums of scores and of their squares are kept so, never rounded; a statistic becomes
 * a double only at the end, rounded once to nearest (ties to even), subnormals included: there is
 * no intermediate step that can underflow, overflow or lose a bit.
 */
export interface Dyadic {
  /** the value is num · 2^exp */
  readonly num: bigint;
  readonly exp: number;
}

export const ZERO: Dyadic = Object.freeze({ num: 0n, exp: 0 });

const bits = new DataView(new ArrayBuffer(8));

/** A finite double, exactly (trailing zero bits dropped, so common scores stay short). */
export function exactOf(x: number): Dyadic {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  if (x === 0) return ZERO;
  bits.setFloat64(0, x);
  const high = bits.getUint32(0);
  const low = bits.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  // the 53-bit significand as two exact halves: hi * 2^32 + low
  const hi = (high & 0xfffff) + (biased === 0 ? 0 : 0x100000);
  let exp = biased === 0 ? -1074 : biased - 1075;
  let significand = hi * 2 ** 32 + low; // < 2^53: exact
  const zeros = low !== 0 ? trailingZeros32(low) : 32 + trailingZeros32(hi);
  significand /= 2 ** zeros; // exact: those bits are zero
  exp += zeros;
  const num = BigInt(significand);
  return { num: high >>> 31 ? -num : num, exp };
}

function trailingZeros32(v: number): number {
  return 31 - Math.clz32(v & -v);
}

export function add(a: Dyadic, b: Dyadic): Dyadic {
  if (a.num === 0n) return b;
  if (b.num === 0n) return a;
  if (a.exp === b.exp) return { num: a.num + b.num, exp: a.exp };
  return a.exp < b.exp ? { num: a.num + (b.num << BigInt(b.exp - a.exp)), exp: a.exp } : { num: (a.num << BigInt(a.exp - b.exp)) + b.num, exp: b.exp };
}

export function mul(a: Dyadic, b: Dyadic): Dyadic {
  if (a.num === 0n || b.num === 0n) return ZERO;
  return { num: a.num * b.num, exp: a.exp + b.exp };
}

/** a · k for an integer k. */
export function scale(a: Dyadic, k: bigint): Dyadic {
  return k === 0n || a.num === 0n ? ZERO : { num: a.num * k, exp: a.exp };
}

export function equal(a: Dyadic, b: Dyadic): boolean {
  const d = add(a, { num: -b.num, exp: b.exp });
  return d.num === 0n;
}

const fives: bigint[] = [1n];
function fiveTo(k: number): bigint {
  while (fives.length <= k) fives.push(fives[fives.length - 1] * 5n);
  return fives[k];
}

/**
 * The exact decimal notation (what PostgreSQL's numeric stores without loss): 2^-k = 5^k / 10^k,
 * so a dyadic value has at most -exp digits after the point.
 */
export function toDecimal(a: Dyadic): string {
  if (a.exp >= 0) return (a.num << BigInt(a.exp)).toString();
  const negative = a.num < 0n;
  const k = -a.exp;
  const digits = ((negative ? -a.num : a.num) * fiveTo(k)).toString().padStart(k + 1, '0');
  const whole = digits.slice(0, digits.length - k);
  const fraction = digits.slice(digits.length - k).replace(/0+$/, '');
  return (negative ? '-' : '') + whole + (fraction ? '.' + fraction : '');
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d*))?$/;

/** The inverse of toDecimal: a decimal numeral that is a dyadic rational (else RangeError). */
export function fromDecimal(text: string): Dyadic {
  const m = DECIMAL.exec(text);
  if (!m) throw new RangeError(`not a decimal numeral: ${JSON.stringify(text.slice(0, 40))}`);
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const k = fraction.length;
  let num = BigInt(m[2] + fraction);
  if (m[1]) num = -num;
  if (k === 0) return num === 0n ? ZERO : { num, exp: 0 };
  const q = num / fiveTo(k);
  if (q * fiveTo(k) !== num) throw new RangeError(`not a binary fraction: ${text.slice(0, 40)}`);
  return { num: q, exp: -k };
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** floor(log2(p / q)) for p, q > 0. */
function floorLog2(p: bigint, q: bigint): number {
  const k = bitLength(p) - bitLength(q);
  // p / q lies in (2^(k-1), 2^(k+1)): one comparison decides
  const ge = k >= 0 ? p >= q << BigInt(k) : p << BigInt(-k) >= q;
  return ge ? k : k - 1;
}

/** p · 2^s / q as (p', q') with integers (s of either sign). */
function shifted(p: bigint, q: bigint, s: number): [bigint, bigint] {
  return s >= 0 ? [p << BigInt(s), q] : [p, q << BigInt(-s)];
}

/**
 * The double nearest to q · 2^unit for an integer q >= 0 with ≤ 53 bits, already rounded
 * (2^53 allowed: the rounding carried). Built from its bits: no floating-point step.
 */
function fromSignificand(q: bigint, unit: number): number {
  if (q === 0n) return 0;
  if (q >= 1n << 52n || unit > -1074) {
    // normal: normalize q into [2^52, 2^53)
    let e = unit;
    while (q >= 1n << 53n) {
      q >>= 1n; // only reached when the rounding carried into 2^53: the dropped bit is 0
      e += 1;
    }
    while (q < 1n << 52n) {
      q <<= 1n;
      e -= 1;
    }
    const biased = e + 1075;
    if (biased >= 0x7ff) return Infinity;
    if (biased > 0) {
      bits.setBigUint64(0, (BigInt(biased) << 52n) | (q - (1n << 52n)));
      return bits.getFloat64(0);
    }
    throw new RangeError('fromSignificand: below the normal range');
  }
  bits.setBigUint64(0, q); // subnormal: the significand is the bit pattern
  return bits.getFloat64(0);
}

/** Round q + (half, sticky) to nearest, ties to even. */
function roundHalfEven(q: bigint, half: boolean, sticky: boolean): bigint {
  return half && (sticky || (q & 1n) === 1n) ? q + 1n : q;
}

/** The unit in the last place of a double in [2^e, 2^(e+1)): 2^(e-52), never below 2^-1074. */
const unitOf = (e: number) => Math.max(e - 52, -1074);

/** p / q (p >= 0, q > 0) correctly rounded to a double. */
export function roundRatio(p: bigint, q: bigint): number {
  if (p < 0n || q <= 0n) throw new RangeError('roundRatio: p >= 0 and q > 0');
  if (p === 0n) return 0;
  const unit = unitOf(floorLog2(p, q));
  // one bit more than the result needs: the half bit; the remainder is the sticky part
  const [a, b] = shifted(p, q, 1 - unit);
  const twice = a / b;
  const sticky = twice * b !== a;
  return fromSignificand(roundHalfEven(twice >> 1n, (twice & 1n) === 1n, sticky), unit);
}

/** floor(sqrt(n)) for n >= 0. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x: bigint;
  const approx = Number(n);
  if (approx < 2 ** 1000) {
    x = BigInt(Math.floor(Math.sqrt(approx)));
  } else {
    x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  }
  // Newton from the estimate, then settle the last unit either way
  for (;;) {
    if (x === 0n) x = 1n;
    const next = (x + n / x) >> 1n;
    if (next === x || next === x + 1n || next + 1n === x) {
      x = next;
      break;
    }
    x = next;
  }
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

/** sqrt(p / q) (p >= 0, q > 0) correctly rounded to a double. */
export function roundSqrtRatio(p: bigint, q: bigint): number {
  if (p < 0n || q <= 0n) throw new RangeError('roundSqrtRatio: p >= 0 and q > 0');
  if (p === 0n) return 0;
  // floor(log2(sqrt(r))) = floor(floor(log2(r)) / 2)
  const unit = unitOf(Math.floor(floorLog2(p, q) / 2));
  // 2·sqrt(p/q)/2^unit = sqrt(p·2^(2-2·unit)/q); floor(sqrt(floor(y))) = floor(sqrt(y))
  const [a, b] = shifted(p, q, 2 - 2 * unit);
  const y = a / b;
  const twice = isqrt(y);
  const sticky = twice * twice !== y || y * b !== a;
  return fromSignificand(roundHalfEven(twice >> 1n, (twice & 1n) === 1n, sticky), unit);
}
