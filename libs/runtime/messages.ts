/**
 * What a supervisor (supervisor.ts) and the processes it forks say to each other over Node's IPC
 * channel. Typed both ways; anything else on the channel is ignored.
 */
export type ChildMessage =
  /** the group assigned this process these partitions (after every rebalance) */
  | { type: 'assigned'; partitions: number[] }
  /** may I skip preparing topics and migrations (the parent does it)? */
  | { type: 'prepared?' };

export type ParentMessage =
  /** the namespace is prepared: go on */
  | { type: 'prepared' }
  /** the relay: drain at once, nothing more is coming (ingest, once the products are applied) */
  | { type: 'drain' };

export function isChildMessage(m: unknown): m is ChildMessage {
  const type = (m as { type?: unknown } | null)?.type;
  return type === 'assigned' || type === 'prepared?';
}

export function isParentMessage(m: unknown): m is ParentMessage {
  const type = (m as { type?: unknown } | null)?.type;
  return type === 'prepared' || type === 'drain';
}

/** To the supervisor, when there is one (a process started otherwise has no channel). */
export function tellParent(message: ChildMessage): void {
  if (process.send && process.connected) process.send(message, undefined, {}, () => undefined);
}

/** Messages from the supervisor; returns a function that stops listening. */
export function onParentMessage(handler: (message: ParentMessage) => void): () => void {
  const listener = (m: unknown) => {
    if (isParentMessage(m)) handler(m);
  };
  process.on('message', listener);
  return () => process.off('message', listener);
}

/** Ask the supervisor whether it prepared the namespace; false when it does not say within timeoutMs. */
export function parentPrepared(timeoutMs: number): Promise<boolean> {
  if (!process.send) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      stop();
      resolve(ok);
    };
    const stop = onParentMessage((m) => m.type === 'prepared' && done(true));
    const timer = setTimeout(() => done(false), timeoutMs);
    tellParent({ type: 'prepared?' });
  });
}
