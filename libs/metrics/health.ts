import { Admin } from '../kafka/port';
import { Pool } from 'pg';
import { errorMessage } from '../errors';
import { Membership } from './consumer';

/** One readiness check: resolves when all is well, rejects with the reason otherwise. */
export type Check = () => Promise<void>;

/** What /readyz answers: 200 when ready, 503 with the reasons when not. */
export interface Readiness {
  status: 'ready' | 'not ready';
  /** every check: "ok" or why not */
  checks: Record<string, string>;
  /** when not ready: the failing checks, in one line */
  reason?: string;
}

/** How long a check may take before it counts as failed (a probe must answer quickly). */
export const CHECK_TIMEOUT_MS = 2000;

/** Run the checks at once, each bounded by `timeoutMs`. */
export async function readiness(checks: Record<string, Check>, timeoutMs = CHECK_TIMEOUT_MS): Promise<Readiness> {
  const results = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await outcome(check, timeoutMs)] as const));
  const failed = results.filter(([, r]) => r !== 'ok');
  const report: Readiness = { status: failed.length ? 'not ready' : 'ready', checks: Object.fromEntries(results) };
  if (failed.length) report.reason = failed.map(([name, r]) => `${name}: ${r}`).join('; ');
  return report;
}

async function outcome(check: Check, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    await Promise.race([check(), late]);
    return 'ok';
  } catch (err) {
    return errorMessage(err);
  } finally {
    clearTimeout(timer);
  }
}

/** PostgreSQL answers a query. */
export const postgresAnswers =
  (pool: Pool): Check =>
  async () => {
    await pool.query('SELECT 1');
  };

/** Kafka answers a metadata request (the admin connects on first use, and again after an outage). */
export const kafkaAnswers =
  (admin: Admin): Check =>
  async () => {
    await admin.connect();
    await admin.describeCluster();
  };

/** Every consumer is a member of its group now. */
export const consumersJoined =
  (memberships: Membership[]): Check =>
  async () => {
    const out = memberships.filter((m) => !m.joined).map((m) => m.observed.group);
    if (out.length) throw new Error(`not a member of its group (yet): ${[...new Set(out)].join(', ')}`);
  };
