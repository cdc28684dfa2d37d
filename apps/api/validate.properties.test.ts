import * as fc from 'fast-check';
import { KafkaMessage } from '../../libs/kafka/port';
import { fuzzParams } from '../../test/fuzz';
import { fromDecimal, summarize, toDecimal, view } from '../../libs/stats';
import { parseJsonBody } from './body';
import { decodeAdEvent, decodeScore, encode, NAME_MAX } from './messages';
import {
  ApiError,
  parseIsoTime,
  validateAdRequest,
  validateHistory,
  validatePush,
  validateQueryEncoding,
  validateSearch,
  validateStatistics,
  validateWindow,
} from './validate';

/**
 * Properties of the api's validators over arbitrary input: every input is either accepted, and
 * what is accepted round-trips (validating it again gives the same; the consumer decodes the
 * Kafka message made of it to the same values; scores go through the statistics), or refused
 * with a 400 that names a field the request can have.
 */

/** The outcome of a validator: its value, or the refusal's status, code and field. */
function outcome<T>(fn: () => T): { ok: T } | { status: number; code: string; field: string | null } {
  try {
    return { ok: fn() };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err; // anything else would be a 500
    return { status: err.statusCode, code: err.code, field: err.field };
  }
}

const message = (value: Buffer): KafkaMessage => ({ key: null, value, offset: 3n, timestamp: '0', headers: {} });

/** Strings as clients send them: any code units (lone surrogates, NUL), spaces, long ones. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('a', ' ', '\t', '\u0000', '\ud800', '\udfff', 'é', '😀', '\u00a0'), maxLength: 12 }),
  fc.constantFrom('', ' ', 'x'.repeat(255), 'x'.repeat(256), '😀'.repeat(255), ' ' + 'y'.repeat(255) + ' '),
);
const anyValue = fc.oneof(
  text,
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.object(),
);
const score = fc.oneof(fc.double(), fc.double({ min: 0, max: 5 }), fc.constantFrom(0, -0, 5, 5.000000000000001, Number.MIN_VALUE, -Number.MIN_VALUE, 1e-170));
/** Mostly what a well-behaved client sends, so that acceptance is exercised as much as refusal. */
const plausible = (valid: fc.Arbitrary<unknown>, invalid: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: invalid, weight: 1 });
const goodText = (max: number) =>
  fc
    .tuple(fc.constantFrom('', ' ', '\t'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: max }), fc.constantFrom('', ' '))
    .map(([a, b, c]) => a + b + c);

test('push bodies: accepted ones are what the consumer decodes and the statistics take; refused ones name the field', () => {
  const body = fc.oneof(
    fc.record(
      {
        name: plausible(goodText(60), fc.oneof(text, anyValue)),
        score: plausible(fc.double({ min: 0, max: 5 }), fc.oneof(score, anyValue)),
        username: plausible(fc.oneof(goodText(20), fc.constant(null)), fc.oneof(text, anyValue)),
      },
      { requiredKeys: [] },
    ),
    anyValue,
  );
  fc.assert(
    fc.property(body, (b) => {
      const o = outcome(() => validatePush(b));
      if (!('ok' in o)) {
        expect(o.status).toBe(400);
        expect([null, 'name', 'score', 'username']).toContain(o.field);
        if (o.field === null) expect(o.code).toBe('invalid_body');
        return;
      }
      const p = o.ok;
      expect(validatePush(p)).toEqual(p); // normalized: validating again changes nothing
      expect(validatePush(JSON.parse(JSON.stringify(b)))).toEqual(p); // as it travels in JSON
      const decoded = decodeScore(message(encode({ type: 'push', ...p, at: 1700000000000 })));
      expect(decoded).toEqual({ type: 'push', ...p, at: 1700000000000, offset: 3n });
      const s = summarize([p.score]);
      expect(view(s)).toEqual({ count: 1, mean: p.score, stddev: 0, min: p.score, max: p.score });
      expect(fromDecimal(toDecimal(s.sumSq))).toEqual(s.sumSq);
      expect([...p.name].length).toBeLessThanOrEqual(NAME_MAX);
    }),
    fuzzParams(1000),
  );
});

const adKeys = ['sdk_version', 'session_id', 'platform', 'username', 'country_code'] as const;
const adValue = fc.oneof(text, fc.constantFrom('1', '1.4.2', '1..2', 'DE', 'de', 'D1', 'ios'), fc.array(fc.constantFrom('a', 'b'), { maxLength: 2 }));
const adValid: Record<(typeof adKeys)[number], fc.Arbitrary<unknown>> = {
  sdk_version: fc.array(fc.nat(99), { minLength: 1, maxLength: 4 }).map((v) => v.join('.')),
  session_id: goodText(30),
  platform: goodText(10),
  username: goodText(30),
  country_code: fc.constantFrom('DE', 'fr', 'Us', 'jp'),
};

test('ad requests: accepted ones are what the events consumer decodes; refused ones name the parameter', () => {
  fc.assert(
    fc.property(fc.record(Object.fromEntries(adKeys.map((k) => [k, plausible(adValid[k], adValue)])) as typeof adValid, { requiredKeys: [] }), (q) => {
      const o = outcome(() => validateAdRequest(q));
      if (!('ok' in o)) {
        expect(o.status).toBe(400);
        expect(adKeys).toContain(o.field);
        return;
      }
      expect(validateAdRequest(o.ok)).toEqual(o.ok);
      const decoded = decodeAdEvent(message(encode({ type: 'ad', ...o.ok, at: 1 })));
      expect(decoded).toEqual({ type: 'ad', ...o.ok, at: 1 });
    }),
    fuzzParams(1000),
  );
});

test('statistics filters, searches and intervals: accepted or refused naming the parameter, never anything else', () => {
  const query = fc.record(
    {
      username: adValue,
      sdk_version: adValue,
      sdk: adValue,
      q: fc.oneof(text, anyValue),
      interval: fc.oneof(fc.constantFrom('minute', 'hour', 'day', '', 'constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'), text),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(query, (q) => {
      const st = outcome(() => validateStatistics(q));
      if ('ok' in st) expect(validateStatistics({ [st.ok.filter]: st.ok.value })).toEqual(st.ok);
      else expect(['username', 'sdk_version', 'sdk']).toContain(st.field);
      const se = outcome(() => validateSearch(q.q));
      if ('ok' in se) expect(validateSearch(se.ok)).toBe(se.ok);
      else expect(se.field).toBe('q');
      const h = outcome(() => validateHistory({ interval: q.interval }));
      if ('ok' in h) expect(['minute', 'hour', 'day']).toContain(h.ok.interval);
      else expect([h.status, h.field]).toEqual([400, 'interval']);
    }),
    fuzzParams(1000),
  );
});

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): a reference apart from Date. */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

test('times: every real date-time from year 0000 to 9999 is read exactly; what is read prints back to itself', () => {
  const civil = fc.record({
    y: fc.integer({ min: 0, max: 9999 }),
    m: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 31 }),
    h: fc.integer({ min: 0, max: 23 }),
    mi: fc.integer({ min: 0, max: 59 }),
    s: fc.integer({ min: 0, max: 59 }),
    ms: fc.integer({ min: 0, max: 999 }),
  });
  fc.assert(
    fc.property(civil, ({ y, m, d, h, mi, s, ms }) => {
      const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
      const exists = d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
      const iso = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`;
      const o = outcome(() => parseIsoTime(iso, 'from'));
      if (!exists) return expect(o).toEqual({ status: 400, code: 'invalid_time', field: 'from' });
      const expected = daysFromCivil(y, m, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + ms;
      expect('ok' in o && o.ok?.getTime()).toBe(expected);
      expect('ok' in o && o.ok?.toISOString()).toBe(iso);
    }),
    fuzzParams(1000),
  );
  fc.assert(
    fc.property(fc.oneof(text, fc.string({ unit: fc.constantFrom('0', '1', '2', '9', '-', ':', 'T', 'Z', '+', ' ', '.'), maxLength: 30 })), (t) => {
      const o = outcome(() => validateWindow({ from: t }));
      if (!('ok' in o)) return expect([o.status, o.field]).toEqual([400, 'from']);
      const from = o.ok.from;
      if (from) expect(parseIsoTime(from.toISOString(), 'from')?.getTime()).toBe(from.getTime());
    }),
    fuzzParams(1000),
  );
});

test('query strings: well-formed percent-encoded UTF-8 passes, anything else is refused naming the parameter', () => {
  const part = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', '%', 'F', 'f', '0', '8', 'C', '3', 'A', '9', '+', '='), maxLength: 10 }),
    fc.string({ unit: 'binary', maxLength: 6 }).map((s) => {
      try {
        return encodeURIComponent(s);
      } catch {
        return '%ED%A0%80'; // a lone surrogate cannot be encoded: its bytes, which are not UTF-8
      }
    }),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(part, part), { maxLength: 4 }), (pairs) => {
      const url = '/x?' + pairs.map(([k, v]) => `${k}=${v}`).join('&');
      const decodes = (s: string) => {
        try {
          decodeURIComponent(s.replace(/\+/g, ' '));
          return true;
        } catch {
          return false;
        }
      };
      const o = outcome(() => validateQueryEncoding(url));
      const bad = url
        .slice(3)
        .split('&')
        .filter(Boolean)
        .find((p) => {
          const eq = p.indexOf('=');
          return !decodes(eq < 0 ? p : p.slice(0, eq)) || (eq >= 0 && !decodes(p.slice(eq + 1)));
        });
      if (bad === undefined) expect(o).toEqual({ ok: undefined });
      else expect('ok' in o ? 'accepted' : [o.status, o.code]).toEqual([400, 'invalid_encoding']);
    }),
    fuzzParams(1000),
  );
});

test('JSON bodies: valid UTF-8 JSON is read exactly; invalid bytes in a property are refused naming it', () => {
  const json = fc.dictionary(
    fc.string({ unit: fc.constantFrom('a', 'b', 'n', '"', '\\', 'é'), minLength: 1, maxLength: 4 }),
    fc.oneof(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.integer()),
    { minKeys: 1, maxKeys: 4 },
  );
  const invalid = fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]);
  fc.assert(
    fc.property(json, fc.nat(), invalid, fc.nat(), (obj, pick, bytes, at) => {
      const text = JSON.stringify(obj);
      expect(parseJsonBody(Buffer.from(text))).toEqual(obj);
      const keys = Object.keys(obj).filter((k) => typeof obj[k] === 'string');
      if (!keys.length) return;
      const key = keys[pick % keys.length];
      const value = obj[key] as string;
      // the property's value with invalid bytes inside it, at a character boundary
      const chars = [...value];
      const cut = Buffer.from(chars.slice(0, at % (chars.length + 1)).join(''));
      const before = JSON.stringify({ ...obj, [key]: '\u0001' }).split('"\\u0001"');
      const raw = Buffer.concat([
        Buffer.from(before[0] + '"'),
        Buffer.from(JSON.stringify(cut.toString()).slice(1, -1)),
        Buffer.from(bytes),
        Buffer.from(JSON.stringify(chars.slice(at % (chars.length + 1)).join('')).slice(1, -1) + '"' + before[1]),
      ]);
      const o = outcome(() => parseJsonBody(raw));
      expect(o).toEqual({ status: 400, code: 'invalid_encoding', field: key });
    }),
    fuzzParams(1000),
  );
});
