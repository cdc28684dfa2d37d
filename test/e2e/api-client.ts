import { RunningCli, startCli, TestEnv, waitFor } from './harness';

/** Helpers of the api's e2e tests: start `dasy api` as a child process, talk to it over real HTTP. */

export interface ApiProcess {
  url: string;
  cli: RunningCli;
  /** SIGTERM, then the exit status */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startApi(t: TestEnv, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ApiProcess> {
  const cli = startCli(t, ['api', '--port', '0', ...args], env);
  let exited = false;
  cli.exited.then(
    () => (exited = true),
    () => (exited = true),
  );
  const url = await waitFor(
    'api listening line',
    async () => {
      if (exited) throw new Error(`dasy api exited: ${cli.stderr()}`);
      return /api listening on (http:\/\/\S+)/.exec(cli.stdout())?.[1];
    },
    60000,
    50,
  );
  return {
    url,
    cli,
    async stop() {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGTERM');
      return cli.exited;
    },
  };
}

/** Start a consumer command and wait for its "running" line. */
export async function startConsumer(t: TestEnv, which: 'scores-consumer' | 'events-consumer', env: NodeJS.ProcessEnv = {}): Promise<RunningCli> {
  const cli = startCli(t, [which], env);
  await waitFor(`${which} running`, async () => {
    if (cli.child.exitCode !== null) throw new Error(`${which} exited: ${cli.stderr()}`);
    return cli.stdout().includes(`${which} running`);
  });
  return cli;
}

export interface Reply<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export async function call<T = any>(
  method: string,
  url: string,
  options: { json?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  } else if (options.raw !== undefined) {
    body = options.raw;
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  if ((res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, body: parsed as T, text, headers: res.headers };
}

/** Independent reference: mean and population standard deviation by the two-pass definition. */
export function reference(xs: number[]) {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / n;
  return { count: n, mean, stddev: Math.sqrt(variance), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Expect a stats object to match the reference of `xs` (means to 1e-9). */
export function expectStats(actual: { count: number; mean: number | null; stddev: number | null; min: number | null; max: number | null }, xs: number[]) {
  if (xs.length === 0) {
    expect({ count: actual.count, mean: actual.mean, stddev: actual.stddev, min: actual.min, max: actual.max }).toEqual({
      count: 0,
      mean: null,
      stddev: null,
      min: null,
      max: null,
    });
    return;
  }
  const r = reference(xs);
  expect(actual.count).toBe(r.count);
  expect(actual.mean).toBeCloseTo(r.mean, 9);
  expect(actual.stddev).toBeCloseTo(r.stddev, 9);
  expect(actual.min).toBe(r.min);
  expect(actual.max).toBe(r.max);
}

/** Deterministic scores in [0, 5] with up to 3 decimals. */
export function scores(n: number, seed: number): number[] {
  let x = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out.push(Math.round((x / 2 ** 32) * 5000) / 1000);
  }
  return out;
}
