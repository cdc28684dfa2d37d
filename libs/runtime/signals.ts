export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Keep long-running components up until SIGTERM/SIGINT, then stop them (each finishes or
 * abandons its batch in flight) and resolve. A second signal exits at once.
 */
export function untilSignal(components: Stoppable[], onStop?: () => void): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = () => {
      if (stopping) process.exit(130);
      stopping = true;
      onStop?.();
      const done = () => resolve();
      Promise.allSettled(components.map((c) => c.stop())).then(done, done);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}

/**
 * After a clean stop the process exits even if a client library left a handle open (a socket
 * or timer of a connection that died in an outage): a stopped part must never linger. Unref'd,
 * so a process that exits by itself is not held back by it.
 */
export function exitWhenStopped(afterMs = 2000): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), afterMs).unref();
}
