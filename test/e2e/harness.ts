import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pool } from 'pg';
import { DasyConfig, loadConfig, withDatabase } from '../../libs/config';
import { dropDatabase, ensureDatabase, quoteIdent, withSchema } from '../../libs/db';
import { runMigrations } from '../../libs/db/migrate';
import { createKafka } from '../../libs/kafka/client';
import { deleteGroups } from '../../libs/kafka/groups';
import { ensureTopics } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'apps', 'cli', 'main.js');
/** The development entry point (dev/main.ts): the shipped commands with their test hooks (a fault), bench, chaos. */
export const DEV_CLI = path.join(ROOT, 'dist', 'dev', 'main.js');

/**
 * One isolated world per test file: a fresh DASY_NAMESPACE (its own topics, groups and schema) and
 * a fresh database on the running server, migrated. `env` is what child processes get; `pool`
 * works in the namespace's schema.
 */
export interface TestEnv {
  namespace: string;
  databaseUrl: string;
  config: DasyConfig;
  env: NodeJS.ProcessEnv;
  pool: Pool;
  tmp: string;
  cleanup(): Promise<void>;
}

/** `icuLocale`: the database's default collation is this ICU locale (say `en-US`) rather than the server's. */
export async function createTestEnv(label: string, options: { icuLocale?: string } = {}): Promise<TestEnv> {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run `make build` (make test does) before the e2e suite');
  const id = `${label
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const base = loadConfig(process.env);
  const namespace = `t-${id}`;
  const databaseUrl = withDatabase(base.databaseUrl, `dasy_test_${id}`);
  if (options.icuLocale) await createIcuDatabase(databaseUrl, options.icuLocale);
  else await ensureDatabase(databaseUrl);
  await runMigrations(databaseUrl, namespace);
  const env: NodeJS.ProcessEnv = { ...process.env, DASY_NAMESPACE: namespace, DATABASE_URL: databaseUrl, KAFKA_BROKERS: base.kafkaBrokers.join(',') };
  const config = loadConfig(env);
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'dasy-test', logger: createLogger('test') });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, namespace);
  // the namespace's schema, as the apps' connections have it
  const pool = new Pool({ connectionString: withSchema(databaseUrl, namespace), max: 4 });
  // An idle connection lost to a server restart must not crash the test file; the next query reconnects.
  pool.on('error', () => undefined);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `dasy-${label}-`));
  const children = new Set<ChildProcess>();
  trackChildren.set(namespace, children);
  return {
    namespace,
    databaseUrl,
    config,
    env,
    pool,
    tmp,
    async cleanup() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await pool.end();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(namespace + '.'));
      if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
      // the groups the consumers mirror their offsets to (those whose members left)
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(namespace + '.'));
      if (groups.length) await deleteGroups(admin, groups).catch(() => undefined);
      await admin.disconnect();
      await dropDatabase(databaseUrl).catch(() => undefined);
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

const trackChildren = new Map<string, Set<ChildProcess>>();

async function createIcuDatabase(databaseUrl: string, icuLocale: string): Promise<void> {
  const admin = new Pool({ connectionString: withDatabase(databaseUrl, 'postgres'), max: 1 });
  try {
    const name = new URL(databaseUrl).pathname.slice(1);
    await admin.query(
      `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE ${quoteLiteral(icuLocale)} LOCALE 'C.UTF-8'`,
    );
  } finally {
    await admin.end();
  }
}

const quoteLiteral = (s: string) => "'" + s.replace(/'/g, "''") + "'";

/** A file in the test's own temporary folder, with this content; its path. */
export function writeTmp(t: TestEnv, name: string, content: string | Buffer): string {
  const file = path.join(t.tmp, name);
  fs.writeFileSync(file, content);
  return file;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `dasy <args>` (or the development entry point's: `cli`) as a child process in the test's world. */
export function startCli(t: TestEnv, args: string[], extraEnv: NodeJS.ProcessEnv = {}, cli = CLI): RunningCli {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...t.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChildren.get(t.namespace)?.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Run `dasy <args>` to completion. */
export async function runCli(t: TestEnv, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const running = startCli(t, args, extraEnv);
  const { code, signal } = await running.exited;
  return { code, signal, stdout: running.stdout(), stderr: running.stderr() };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Rows of a query as plain objects (for exact comparisons). */
export async function rows<T = Record<string, unknown>>(pool: Pool, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await pool.query(sql, params)).rows as T[];
}

/** A TCP port free on 127.0.0.1 right now (for a child process's PORT). */
export async function freePort(): Promise<number> {
  const net = await import('net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as import('net').AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A process's children (Linux: /proc), each with its command line. */
export function childProcesses(parent: number): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) found.push({ pid: Number(entry), argv: fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
