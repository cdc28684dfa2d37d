/**
 * V8's semi-space cap (MB) of every forked part, unless this process's own options set one. Node
 * 24 sizes the young generation from the machine's memory, and a part decoding fetches of
 * megabytes filled it before each scavenge: the products consumers peaked at 344 MB RSS in a
 * 500,000-row ingest, 227 MB with 16 MB semi-spaces, and their CPU did not grow (bench, 2 runs each
 * way).
 */
export const PART_SEMI_SPACE_MB = 16;

/**
 * The commands whose own process streams a file into Kafka (the producer is not a forked part).
 * They get the parts' semi-space cap too: the CLI applies it to itself (applyOwnCaps), the bench
 * starts them with it (streamingExecArgv, supervisor.ts). A 500,000-row ingest's main process
 * peaked at 324 MB RSS with Node 24's default, 251 MB with 16 MB semi-spaces.
 */
export const STREAMING_COMMANDS: readonly string[] = ['ingest', 'delete', 'products-producer'];

/** The V8 memory caps a command runs with (MB); unset: V8's default, sized from the machine's memory. */
export interface MemoryCaps {
  semiSpaceMb?: number;
  heapMb?: number;
}

/**
 * The caps of a dasy command run by anyone (make, bin/dasy, a user's own node): a part that
 * declares a heap cap (ComponentSpec.heapMb) runs with it and the forked parts' semi-space cap, as
 * a supervisor forks it; a command that streams a file into Kafka, with the semi-space cap.
 */
export function capsOf(command: string | undefined, heapMbOf: (command: string) => number | undefined): MemoryCaps {
  if (command === undefined) return {};
  const heapMb = heapMbOf(command);
  if (heapMb !== undefined) return { semiSpaceMb: PART_SEMI_SPACE_MB, heapMb };
  return STREAMING_COMMANDS.includes(command) ? { semiSpaceMb: PART_SEMI_SPACE_MB } : {};
}

/** The flags of `caps` that `options` (Node options: the process's and NODE_OPTIONS') do not set a size for already. */
export function missingCapFlags(caps: MemoryCaps, options: readonly string[]): string[] {
  const sets = (flag: string) => options.some((o) => o.startsWith(flag));
  const flags: string[] = [];
  if (caps.semiSpaceMb !== undefined && !sets('--max-semi-space-size')) flags.push(`--max-semi-space-size=${caps.semiSpaceMb}`);
  if (caps.heapMb !== undefined && !sets('--max-old-space-size')) flags.push(`--max-old-space-size=${caps.heapMb}`);
  return flags;
}

/**
 * Runs this process with `caps` unless its Node options set those sizes: V8 sizes its heap once, at
 * start, so the process replaces itself (process.execve: the same pid, arguments, environment and
 * standard streams) before anything else loads. Flags a user gave win. A Node without execve
 * (before 22.15), or an exec that fails, runs on with V8's defaults.
 */
export function applyOwnCaps(caps: MemoryCaps): void {
  const options = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const missing = missingCapFlags(caps, options);
  if (!missing.length || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], process.env);
  } catch {
    // it returns only when the exec failed (the binary gone meanwhile, say): the command runs on, uncapped
  }
}
