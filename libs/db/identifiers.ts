/** An identifier (a table, a schema) quoted for SQL: any name, case kept. */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * The connection string whose sessions have `search_path` set to this schema alone (each
 * namespace has its own schema, named as the namespace). It goes in the URL's `options`, after
 * what is there (such as `-c jit=off`): pg lets the URL's options override a Pool's own, and so
 * does the later `-c`. The server splits `options` on spaces, a backslash escaping the next one.
 */
export function withSchema(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  const own = url.searchParams.get('options') ?? '';
  const value = quoteIdent(schema).replace(/[\\\s]/g, (c) => '\\' + c);
  url.searchParams.set('options', `${own} -c search_path=${value}`.trim());
  return url.toString();
}
