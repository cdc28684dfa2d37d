import { numbersLiteral, textsLiteral } from './array-literal';

test('numbers: shortest round-trip form, NULL for null', () => {
  expect(numbersLiteral([])).toBe('{}');
  expect(numbersLiteral([0, -1.5, 0.1, 1e-7, 5, null, 1733600000123.5])).toBe('{0,-1.5,0.1,1e-7,5,NULL,1733600000123.5}');
  expect(numbersLiteral([9007199254740993n, '123456789012345678'])).toBe('{9007199254740993,123456789012345678}');
});

test('texts: every element quoted, quotes and backslashes escaped, NULL only for null', () => {
  expect(textsLiteral([])).toBe('{}');
  expect(textsLiteral(['a', '', 'NULL', null, 'a,b {c}', 'say "hi"', 'C:\\dir\\', ' x '])).toBe(
    '{"a","","NULL",NULL,"a,b {c}","say \\"hi\\"","C:\\\\dir\\\\"," x "}',
  );
});
