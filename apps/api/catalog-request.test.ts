import { KEY_MAX_BYTES } from '../../libs/db/key-limit';
import { catalogText, PAGE_LIMIT_DEFAULT, prefixUpperBound, validateProductsPage } from './catalog-request';
import { ApiError } from './validate';

function refusal(fn: () => unknown): { status: number; code: string; field: string | null } {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.statusCode, code: err.code, field: err.field };
  }
  throw new Error('expected a refusal');
}

describe('validateProductsPage', () => {
  test('name (trimmed) or q (exact), limit with its default, after as given', () => {
    expect(validateProductsPage({ name: '  Ann Lee ' })).toEqual({ filter: { filter: 'name', value: 'Ann Lee' }, limit: PAGE_LIMIT_DEFAULT, after: '' });
    expect(validateProductsPage({ q: ' red ', limit: '500', after: ' red apple' })).toEqual({
      filter: { filter: 'q', value: ' red ' },
      limit: 500,
      after: ' red apple',
    });
    expect(validateProductsPage({ q: 'a', limit: '1', after: '' })).toEqual({ filter: { filter: 'q', value: 'a' }, limit: 1, after: '' });
    expect(validateProductsPage({ q: 'a', limit: '', other: 'ignored' })).toEqual({
      filter: { filter: 'q', value: 'a' },
      limit: PAGE_LIMIT_DEFAULT,
      after: '',
    });
  });

  test.each([
    ['no filter', {}, 'missing', 'name'],
    ['both filters', { name: 'a', q: 'b' }, 'ambiguous', 'q'],
    ['empty name', { name: '   ' }, 'empty', 'name'],
    ['empty q', { q: '' }, 'empty', 'q'],
    ['name twice', { name: ['a', 'b'] }, 'invalid_type', 'name'],
    ['q with NUL', { q: 'a\u0000' }, 'invalid_value', 'q'],
    ['name with a lone surrogate', { name: 'a\ud800' }, 'invalid_value', 'name'],
    ['q too long', { q: 'x'.repeat(KEY_MAX_BYTES + 1) }, 'too_long', 'q'],
    ['name too long in UTF-8 bytes', { name: '😀'.repeat(KEY_MAX_BYTES / 4) + 'x' }, 'too_long', 'name'],
    ['limit 0', { q: 'a', limit: '0' }, 'out_of_range', 'limit'],
    ['limit 501', { q: 'a', limit: '501' }, 'out_of_range', 'limit'],
    ['limit not a number', { q: 'a', limit: '10abc' }, 'invalid_value', 'limit'],
    ['limit negative', { q: 'a', limit: '-1' }, 'invalid_value', 'limit'],
    ['limit huge', { q: 'a', limit: '1'.repeat(400) }, 'invalid_value', 'limit'],
    ['limit twice', { q: 'a', limit: ['1', '2'] }, 'invalid_type', 'limit'],
    ['after with NUL', { q: 'a', after: '\u0000' }, 'invalid_value', 'after'],
    ['after too long', { q: 'a', after: 'é'.repeat(KEY_MAX_BYTES / 2) + 'x' }, 'too_long', 'after'],
    ['after twice', { q: 'a', after: ['x', 'y'] }, 'invalid_type', 'after'],
  ])('%s: 400 %s naming %s', (_what, query, code, field) => {
    expect(refusal(() => validateProductsPage(query))).toEqual({ status: 400, code, field });
  });

  test('the longest accepted key is KEY_MAX_BYTES in UTF-8, what the ingest stores; one byte more is too_long naming the field', () => {
    for (const key of ['k'.repeat(KEY_MAX_BYTES), '😀'.repeat(KEY_MAX_BYTES / 4), 'é'.repeat(KEY_MAX_BYTES / 2)]) {
      expect(catalogText(key, 'sku', { trim: true })).toBe(key);
      expect(refusal(() => catalogText(key + 'x', 'sku', { trim: true }))).toEqual({ status: 400, code: 'too_long', field: 'sku' });
    }
    // trimmed first, as the ingest trims
    expect(catalogText(` ${'k'.repeat(KEY_MAX_BYTES)} `, 'name', { trim: true })).toBe('k'.repeat(KEY_MAX_BYTES));
  });
});

describe('prefixUpperBound', () => {
  const cp = (s: string | null) => (s === null ? null : [...s].map((c) => c.codePointAt(0)!.toString(16)));
  test.each([
    ['a', 'b'],
    ['red-', 'red.'],
    ['a\u{10FFFF}', 'b'],
    ['ab\u{10FFFF}\u{10FFFF}', 'ac'],
    ['x\uD7FF', 'x\uE000'], // past the surrogates
    ['\uFFFF', '\u{10000}'],
    ['😀', '😁'],
    ['\u{10FFFF}', null],
    ['\u{10FFFF}\u{10FFFF}', null],
  ])('%j → %j', (prefix, upper) => {
    expect(cp(prefixUpperBound(prefix))).toEqual(cp(upper));
  });

  test('every string with the prefix is in [prefix, upper), in code point order; the ones around it are not', () => {
    const byCodePoint = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)); // UTF-8 bytes: code point order
    const prefix = 'ab\u{10FFFF}';
    const upper = prefixUpperBound(prefix)!;
    const inside = [prefix, prefix + '\u0001', prefix + '\u{10FFFF}\u{10FFFF}', prefix + 'zzz'];
    const outside = ['ab', 'ab\uFFFF', 'ac', 'aa\u{10FFFF}', 'ab\u{10FFFE}\u{10FFFF}'];
    for (const s of inside) expect([s, byCodePoint(s, prefix) >= 0 && byCodePoint(s, upper) < 0]).toEqual([s, true]);
    for (const s of outside) expect([s, byCodePoint(s, prefix) >= 0 && byCodePoint(s, upper) < 0]).toEqual([s, false]);
  });
});
