import fc from 'fast-check';
import { isTrimmedUtf8 } from './trimmed';

const byString = (s: string) => s.trim() !== '' && s === s.trim();
const check = (s: string) => {
  const bytes = Buffer.from(`x${s}y`);
  return isTrimmedUtf8(bytes, 1, bytes.length - 1);
};

test('the rule of the string, read from the bytes', () => {
  for (const [s, trimmed] of [
    ['Ann', true],
    ['', false],
    [' ', false],
    [' Ann', false],
    ['Ann\t', false],
    ['A n', true],
    ['\u00a0Ann', false],
    ['Ann\u3000', false],
    ['\ufeffAnn', false],
    ['Ann\u2028', false],
    ['\u00e9', true],
    ['Ann \u{1f600}', true],
    ['\u0085', true], // NEL is not whitespace to trim()
  ] as const) {
    expect([s, check(s)]).toEqual([s, trimmed]);
  }
});

test('any text: the same answer as the string rule', () => {
  const whitespace = fc.constantFrom(
    ' ',
    '\t',
    '\n',
    '\r',
    '\v',
    '\f',
    '\u00a0',
    '\u1680',
    '\u2000',
    '\u200a',
    '\u2028',
    '\u2029',
    '\u202f',
    '\u205f',
    '\u3000',
    '\ufeff',
  );
  const piece = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 4 }), whitespace);
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 6 }), (pieces) => {
      const s = pieces.join('');
      expect(check(s)).toBe(byString(s));
    }),
    { numRuns: 2000 },
  );
});
