import { loadDevConfig } from '../../libs/config';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

/**
 * A PostgreSQL cluster of a test's own (initdb into a temporary folder, its own port), for the
 * faults that must never touch the machine's server: a crash (`pg_ctl stop -m immediate`). As
 * root, its programs run as the `postgres` user (PostgreSQL refuses to run as root).
 */

const run = promisify(execFile);
const BIN = loadDevConfig().testPgBin;

export const privatePostgresAvailable = fs.existsSync(path.join(BIN, 'initdb'));

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  start(): Promise<void>;
  /** `pg_ctl stop -m immediate`: the server is killed, as in a crash; what was not flushed is lost */
  crash(): Promise<void>;
  /** crash, and delete its folder */
  destroy(): Promise<void>;
}

/** `settings`: the server's `-c` options (e.g. wal_writer_delay). */
export async function createPrivatePostgres(port: number, settings: Record<string, string> = {}): Promise<PrivatePostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dasy-private-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await run('chown', ['postgres', dir]);
  const pg = (program: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(BIN, program), ...args]) : run(path.join(BIN, program), args);
  const data = path.join(dir, 'data');
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const options = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
  const cluster: PrivatePostgres = {
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await pg('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', '-o', options, 'start']);
    },
    async crash() {
      await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    async destroy() {
      await cluster.crash().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
