/**
 * When `make chaos` injects its faults: at points of the work's progress (the share of the
 * records applied, read from the stored offsets), not at moments of the clock. A schedule of
 * times ran out once the pipeline got faster (half the kills of `sigkill` and one of the two
 * PostgreSQL restarts landed after the ingest had ended); a point of progress always comes while
 * the work runs, whatever its speed. Pure functions: the scenarios (index.ts, deletes.ts) sample
 * the progress and inject.
 */

/** One planned fault: its kind, and the share of the work (0 to 1) done when it is due. */
export interface Planned<K extends string = string> {
  kind: K;
  at: number;
}

/** The pipeline processes a scenario SIGKILLs (their CLI command): the products consumers, and the process of the relay and the product-count consumer. */
export type Role = 'products-consumer' | 'product-count';

/** A declared dataset's pipeline processes (`ingest --dataset` forks them): its rows consumers, and the relay with the recounts. */
export type DatasetRole = 'dataset-consumer' | 'dataset-aggregates';

/** Every part a scenario can SIGKILL, as its command line names it. */
export const PART_ROLES: readonly (Role | DatasetRole)[] = ['products-consumer', 'product-count', 'dataset-consumer', 'dataset-aggregates'];

export interface Kills {
  products: number;
  /** of the process of the relay and the product-count consumer: each kill takes both down */
  followers: number;
}

/**
 * `count` points spread evenly over [from, to] (the middle of it for one): the first at `from`,
 * the last at `to`, so that the last comes while some of the work is left.
 */
export function spread(count: number, from: number, to: number): number[] {
  if (count <= 0) return [];
  if (count === 1) return [(from + to) / 2];
  return Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));
}

/**
 * The SIGKILLs of a scenario in a random order of roles (`random`: uniform in [0, 1)), each due
 * at its point of the work's progress between `from` and `to`. Not up to the end: the records
 * are applied a fetch at a time (progress moves in steps), and the kills must fit in the work.
 */
export function killPlan(kills: Kills, random: () => number, from = 0.05, to = 0.6): Planned<Role>[] {
  return rolesPlan<Role>(
    [
      ['products-consumer', kills.products],
      ['product-count', kills.followers],
    ],
    random,
    from,
    to,
  );
}

/** killPlan for any roles: `count` kills of each, in a random order, spread over [from, to]. */
export function rolesPlan<K extends string>(counts: [K, number][], random: () => number, from = 0.05, to = 0.6): Planned<K>[] {
  const roles: K[] = counts.flatMap(([role, n]) => Array<K>(n).fill(role));
  for (let i = roles.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [roles[i], roles[j]] = [roles[j], roles[i]];
  }
  const points = spread(roles.length, from, to);
  return roles.map((kind, i) => ({ kind, at: points[i] }));
}

/**
 * The next fault to inject now: the first of the plan not yet done that is due at `progress`
 * and whose target can take it now (`ready`: a process of that role is up, say); undefined when
 * none. A fault whose target is not ready waits, it is never skipped; the ones after it that are
 * ready go first.
 */
export function nextDue<K extends string>(plan: Planned<K>[], done: readonly boolean[], progress: number, ready: (kind: K) => boolean): number | undefined {
  for (let i = 0; i < plan.length; i++) if (!done[i] && plan[i].at <= progress && ready(plan[i].kind)) return i;
  return undefined;
}

/** What the run has left to do, as the scenario reads it while it injects. */
export interface WorkLeft {
  /** records not yet applied by the products consumers */
  products: boolean;
  /** names waiting in the outbox for the relay */
  marks: boolean;
  /** recounts in the product-count topic not yet applied */
  recounts: boolean;
}

/** What a scenario reads of a run between its faults: the share of its records applied, and the work it has left. */
export interface Reading {
  share: number;
  left: WorkLeft;
}

/** Something a scenario does to the pipeline: whether it can now (its target is up, and has work), and doing it (what was done, or undefined if it could not). */
export interface Injector<K extends string> {
  ready(kind: K, reading: Reading): boolean;
  inject(kind: K): Promise<string | undefined>;
}

/**
 * Whether a SIGKILL now lands while its run is still under way: while any of its work is left
 * (records to apply, marks to relay, recounts to apply), the run cannot end, and a kill checked
 * now lands before its end (one checked against the clock could land after it, and was then
 * dropped). Whether the victim has work of its own at that moment does not matter: a relay killed
 * while it lets marks coalesce is a fault too.
 */
export function killLands(left: WorkLeft): boolean {
  return left.products || left.marks || left.recounts;
}

/**
 * A scenario's faults against what it announced, as problems (none when they match): each kind
 * injected exactly as many times as announced, and no kind it did not announce.
 */
export function unannounced(announced: readonly string[], injected: readonly string[]): string[] {
  const count = (xs: readonly string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const want = count(announced);
  const got = count(injected);
  const problems: string[] = [];
  for (const [kind, n] of want) if ((got.get(kind) ?? 0) !== n) problems.push(`announced ${n} × ${kind}, injected ${got.get(kind) ?? 0}`);
  for (const [kind, n] of got) if (!want.has(kind)) problems.push(`injected ${n} × ${kind}, which it did not announce`);
  return problems;
}

/**
 * The share of a run's records applied, from the sum of the products group's stored offsets:
 * (stored - start) / records, at most 1. `start` is the sum when the run began; a run that first
 * sets the offsets back (rebuild) counts from where it set them, once that is seen (`resetTo`).
 */
export function appliedShare(stored: bigint, run: { start: bigint; records: number; resetTo?: bigint }, resetSeen: boolean): number {
  if (run.records <= 0) return 1;
  if (run.resetTo !== undefined && !resetSeen) return 0;
  const from = run.resetTo ?? run.start;
  return Math.max(0, Math.min(1, Number(stored - from) / run.records));
}
