import { Admin } from '../kafka/port';

/** The start in progress: stop() waits for it, so no consumer starts after it disconnected. */
export class StartGate {
  private current: Promise<unknown> = Promise.resolve();
  track(fn: () => Promise<void>): Promise<void> {
    const attempt = fn();
    this.current = attempt.catch(() => undefined);
    return attempt;
  }
  settled(): Promise<unknown> {
    return this.current;
  }
}

/** Low watermarks of the topic's partitions, read once (where a partition's first batch must start). */
export class LogStarts {
  private readonly cache = new Map<number, bigint>();
  constructor(
    private readonly admin: () => Admin,
    private readonly topic: string,
  ) {}
  async get(partition: number): Promise<bigint> {
    const cached = this.cache.get(partition);
    if (cached !== undefined) return cached;
    const admin = this.admin();
    await admin.connect();
    for (const o of await admin.fetchTopicOffsets(this.topic)) this.cache.set(o.partition, BigInt(o.low));
    return this.cache.get(partition) ?? 0n;
  }
}
