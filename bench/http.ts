import { ChildProcess, fork, spawn } from 'child_process';
import * as net from 'net';
import { CLI, liveChildren } from './pipeline';

// autocannon 8 ships no types; this is the part of its programmatic API the bench uses.
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
}
interface AutocannonResult {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number; average: number; max: number };
  requests: { average: number };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

export interface LoadResult {
  /** 2xx responses per second */
  rps: number;
  /** 2xx responses in all */
  ok: number;
  /** how long the load lasted */
  seconds: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export async function load(url: string, options: { seconds: number; connections: number; requests: AutocannonRequest[] }): Promise<LoadResult> {
  const r = await autocannon({ url, connections: options.connections, duration: options.seconds, requests: options.requests, timeout: 10 });
  return {
    rps: r['2xx'] / r.duration,
    ok: r['2xx'],
    seconds: r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A server child: resolves with its URL once it prints `... listening on http://...`. */
export interface ServerChild {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function waitForUrl(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not print its URL within ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before listening: ${err.trim().split('\n').slice(-3).join(' | ') || out.trim().slice(-300)}`));
    });
  });
}

function stopper(child: ChildProcess) {
  return () =>
    new Promise<void>((resolve) => {
      liveChildren.delete(child);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 15000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

/** The reference: a bare node:http server answering a small JSON body after reading the request. */
const BARE_SERVER = `
const http = require('http');
const body = JSON.stringify({ name: 'bench', count: 1, mean: 3, stddev: 0, min: 3, max: 3 });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('bare listening on http://127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

export async function startBare(): Promise<ServerChild> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  const url = await waitForUrl(child, 'the bare node:http server', 10000);
  return { url, child, stop: stopper(child) };
}

/** `dasy api` with its consumers, on a free port; `undefined` (and why) when it cannot start. */
export async function startApi(env: NodeJS.ProcessEnv): Promise<ServerChild | { skipped: string }> {
  const port = await freePort();
  const child = fork(CLI, ['api'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  liveChildren.add(child);
  try {
    const url = await waitForUrl(child, 'dasy api', 90000);
    return { url, child, stop: stopper(child) };
  } catch (err) {
    await stopper(child)();
    const message = (err as Error).message;
    return { skipped: /unknown command/i.test(message) ? 'the `dasy api` command does not exist yet' : message };
  }
}

/** Pushes spread over `names` products, scores 0..5. */
export function pushRequests(names: string[]): AutocannonRequest[] {
  let i = 0;
  return [
    {
      method: 'POST',
      path: '/api/push',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        i = (i + 1) % names.length;
        return { ...req, body: JSON.stringify({ name: names[i], score: (i * 7) % 6, username: `bench-user-${i % 50}` }) };
      },
    },
  ];
}

/** Batches of `size` pushes (POST /api/push/batch) spread over `names`, scores 0..5. */
export function batchRequests(names: string[], size: number): AutocannonRequest[] {
  let i = 0;
  return [
    {
      method: 'POST',
      path: '/api/push/batch',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        const pushes = Array.from({ length: size }, () => {
          i = (i + 1) % names.length;
          return { name: names[i], score: (i * 7) % 6, username: `bench-user-${i % 50}` };
        });
        return { ...req, body: JSON.stringify(pushes) };
      },
    },
  ];
}

export function statsRequests(names: string[]): AutocannonRequest[] {
  let i = 0;
  return [
    {
      method: 'GET',
      setupRequest: (req) => {
        i = (i + 1) % names.length;
        return { ...req, path: `/api/products/${encodeURIComponent(names[i])}/stats` };
      },
    },
  ];
}
