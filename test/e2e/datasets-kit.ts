import * as fs from 'fs';
import { parse } from 'csv-parse/sync';
import { runCli, TestEnv, writeTmp } from './harness';

/**
 * Shared by the datasets' end-to-end tests (datasets*.e2e.test.ts): a spec or CSV written to the
 * test's folder, the real CLI run to its JSON summary or its one-line refusal, and rows read as
 * arrays for exact comparisons.
 */

/** A file in the test's folder from lines (a trailing newline added). */
export function linesFile(t: TestEnv, name: string, lines: string[]): string {
  return writeTmp(t, name, lines.join('\n') + '\n');
}

/** `dasy <args>` that must succeed: its JSON summary (the last stdout line) and every stdout line. */
export async function succeed(t: TestEnv, args: string[]): Promise<{ summary: Record<string, unknown>; lines: string[] }> {
  const r = await runCli(t, args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const lines = r.stdout.trim().split('\n');
  let summary: Record<string, unknown> = {};
  try {
    summary = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  } catch {
    // not every command prints JSON (migrate up prints lines)
  }
  return { summary, lines };
}

/** `dasy <args>` that must be refused: exit code 2 and exactly one stderr line, returned. */
export async function refused(t: TestEnv, args: string[]): Promise<string> {
  const r = await runCli(t, args);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect({ code: r.code, lines: lines.length }).toEqual({ code: 2, lines: 1 });
  return lines[0];
}

/** A summary with its `seconds` left out (the one field no test can know). */
export function timeless(summary: Record<string, unknown>): Record<string, unknown> {
  expect(typeof summary.seconds).toBe('number');
  const rest = { ...summary };
  delete rest.seconds;
  return rest;
}

/** A rejects file as [line, reason] pairs. */
export function rejectsOf(file: string): [number, string][] {
  const records = parse(fs.readFileSync(file), { columns: true }) as { line: string; reason: string }[];
  return records.map((r) => [Number(r.line), r.reason]);
}

/** A query's rows as arrays. */
export async function tuples(t: TestEnv, sql: string, params: unknown[] = []): Promise<unknown[][]> {
  return (await t.pool.query<unknown[]>({ text: sql, values: params, rowMode: 'array' })).rows;
}
