import { withSchema } from './identifiers';

const options = (url: string) => new URL(url).searchParams.get('options');

describe('withSchema', () => {
  test("sets search_path to the quoted schema in the URL's options", () => {
    const url = withSchema('postgres://postgres@127.0.0.1:5432/dasy', 't-1.Other_NS');
    expect(options(url)).toBe('-c search_path="t-1.Other_NS"');
    expect(new URL(url).pathname).toBe('/dasy');
  });

  test('keeps the options already there (the later -c wins for search_path), and the rest of the URL', () => {
    const url = new URL(withSchema('postgres://u:p@db:6543/other?options=-c%20jit%3Doff&sslmode=disable', 'dasy'));
    expect([url.username, url.password, url.host, url.pathname, url.searchParams.get('sslmode')]).toEqual(['u', 'p', 'db:6543', '/other', 'disable']);
    expect(url.searchParams.get('options')).toBe('-c jit=off -c search_path="dasy"');
  });

  test('escapes what the server would split on or unescape, and doubles quotes', () => {
    expect(options(withSchema('postgres://h/d', 'a b\\c"d'))).toBe('-c search_path="a\\ b\\\\c""d"');
  });
});
