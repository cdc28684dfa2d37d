import { errorMessage } from '../../libs/errors';
import { TOPICS } from '../../libs/kafka/topics';
import { Logger } from '../../libs/log';
import { sleep } from '../../libs/resilience';
import { Replica, Supervisor } from '../../libs/runtime';
import { productCountFollowers, productsConsumer } from '../components';

/** How long, at most, the relay of a pipeline run lets marks wait for more marks of its name. */
export const PIPELINE_RELAY_MAX_DELAY_MS = 60_000;
export const PIPELINE_RELAY_QUIET_MS = 3_000;

/** The supervised parts of one pipeline run, and what the run tells them. */
export interface PipelineParts {
  /** the namespace is prepared: the parts waiting for it go on */
  ready(): void;
  /** resolves (with the time) once the products consumers hold every partition and the followers were started */
  followersStarted(): Promise<number>;
  /** tell the relay the products are applied: drain now (idempotent: said again while marks wait) */
  drain(): void;
  stop(): Promise<void>;
}

/**
 * Supervision: N products consumers forked at once (they load their code while this process
 * prepares, and wait for it rather than prepare again: `preparesForThem`); the relay and the
 * product-count consumer, one process (productCountFollowers) that has nothing to do before the
 * products are applied, forked once the products consumers have their partitions, not in the CPU
 * they start in.
 */
export function startPipelineParts(consumers: number, logger: Logger): PipelineParts {
  // Every name the relay sends costs a recount: during a run, let marks coalesce until the
  // products consumers pause (a name marked by several batches is then sent once): it waits up to
  // a minute, or a few quiet seconds, unless told that the products are applied.
  const followerArgs = [productCountFollowers.name, '--max-delay', String(PIPELINE_RELAY_MAX_DELAY_MS), '--quiet', String(PIPELINE_RELAY_QUIET_MS)];
  const parts = new Supervisor(
    Array.from({ length: consumers }, () => ({
      args: [productsConsumer.name, '--consumers', '1'],
      stdout: 'ignore' as const,
      heapMb: productsConsumer.heapMb,
    })),
    { logger, preparesForThem: true },
  );
  const products = [...parts.replicas];
  let followers: Promise<{ relay: Replica; at: number }> | undefined;
  const startFollowers = () =>
    (followers ??= waitForAssignments(products, TOPICS.products.partitions, 10_000).then(() => {
      // the relay and the product-count consumer, in one process (productCountFollowers)
      const relay = parts.add({ args: followerArgs, stdout: 'ignore', heapMb: productCountFollowers.heapMb });
      return { relay, at: Date.now() };
    }));
  return {
    ready() {
      parts.ready();
      startFollowers().catch((err) => logger.debug('the relay and the product-count consumer did not start', { err: errorMessage(err) }));
    },
    followersStarted: async () => (await startFollowers()).at,
    drain() {
      startFollowers().then(
        ({ relay }) => relay.send({ type: 'drain' }),
        () => undefined, // stopping
      );
    },
    stop: () => parts.stop(),
  };
}

/** Until the products consumers together hold every partition once (or the timeout: they go on regardless). */
async function waitForAssignments(consumers: Replica[], partitions: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const want = Math.min(consumers.length, partitions);
  while (Date.now() < deadline) {
    const seen = consumers.map((c) => c.partitions).filter((p): p is number[] => !!p && p.length > 0);
    const union = new Set(seen.flat());
    const total = seen.reduce((a, p) => a + p.length, 0);
    if (seen.length >= want && union.size === partitions && total === partitions) return;
    await sleep(25);
  }
}
