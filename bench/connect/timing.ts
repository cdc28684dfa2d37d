import { memberPartitions } from '../../libs/kafka/groups';
import { Admin } from '../../libs/kafka/port';
import { totalLag } from '../../libs/kafka/topics';
import { sleep } from '../../libs/resilience';
import { Context } from '../context';
import { backendTracker } from '../pipeline';
import { byLabel, findKafkaPid, ProcSampler } from '../proc';
import { round } from '../stats';
import { failed, PARTITIONS, RunningConnect, startConnect, stopConnect } from './worker';

export interface Timed {
  /** drain: every partition assigned to the caught-up commit */
  seconds: number;
  /** JVM start to every partition assigned (plugin scanning, group join) */
  startupSeconds: number;
  /** JVM start to the first committed offset */
  firstCommitSeconds: number;
  /** JVM start to caught up */
  totalSeconds: number;
  /** Connect's JVM, start to caught up; drainCpuSeconds: from every partition assigned */
  cpuSeconds: number;
  drainCpuSeconds: number;
  peakRssMb: number;
  processes: ReturnType<typeof byLabel>;
}

/** Start Connect, time it to caught up with its processes sampled, stop it. */
export async function timeConnect(ctx: Context, admin: Admin, dir: string, target: Target): Promise<Timed> {
  const kafkaPid = findKafkaPid();
  const backends = backendTracker(ctx.pool, ctx.pipelineDb);
  const started = process.hrtime.bigint();
  const connect = startConnect(dir);
  const label = (pid: number) => (pid === connect.child.pid ? 'kafka-connect' : backends.label(pid));
  const sampler = new ProcSampler(connect.child.pid!, () => [...backends.pids(), ...(kafkaPid ? [kafkaPid] : [])], 200, label).start();
  const since = () => Number(process.hrtime.bigint() - started) / 1e9;
  const jvmCpu = () => {
    sampler.sample();
    return sampler.figures().find((f) => f.pid === connect.child.pid)?.cpuSeconds ?? NaN;
  };
  try {
    // the drain starts once every partition is assigned, as runConsumers's does: JVM start and plugin loading are startupSeconds
    await untilAssigned(admin, target, connect);
    const startupSeconds = since();
    const cpuAtAssigned = jvmCpu();
    const firstCommitSeconds = await untilCaughtUp(admin, target, connect, since);
    const totalSeconds = since();
    const drainCpu = jvmCpu() - cpuAtAssigned;
    const processes = byLabel(sampler.stop());
    const jvm = processes['kafka-connect'] ?? { cpuSeconds: NaN, peakRssMb: NaN };
    const seconds = totalSeconds - startupSeconds;
    return {
      seconds: round(seconds),
      startupSeconds: round(startupSeconds, 2),
      firstCommitSeconds: round(firstCommitSeconds, 2),
      totalSeconds: round(totalSeconds, 2),
      cpuSeconds: jvm.cpuSeconds,
      drainCpuSeconds: round(drainCpu, 2),
      peakRssMb: jvm.peakRssMb,
      processes,
    };
  } finally {
    sampler.stop();
    await stopConnect(connect.child);
    await backends.stop();
  }
}

interface Target {
  topic: string;
  group: string;
  /** the topic's end offsets before Connect starts */
  end: Map<number, bigint>;
}

/** Until the sink's group has spread every partition among its members (runConsumers's start point). */
async function untilAssigned(admin: Admin, target: Target, connect: RunningConnect, timeoutMs = 120000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const err = failed(connect);
    if (err) throw err;
    const { groups } = await admin.describeGroups([target.group]);
    const group = groups[0];
    if (group?.state === 'Stable') {
      const partitions = group.members.flatMap((m) => memberPartitions(m.memberAssignment, target.topic));
      if (partitions.length === PARTITIONS && new Set(partitions).size === PARTITIONS) return;
    }
    if (Date.now() > deadline) throw new Error(`Kafka Connect's sink group ${target.group} has no full assignment after ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

/**
 * Until the group's committed offsets reach the end offsets; returns when the first offset was
 * committed (seconds since JVM start). Fails when nothing moves for `stallMs`.
 */
async function untilCaughtUp(admin: Admin, target: Target, connect: RunningConnect, since: () => number, stallMs = 60000): Promise<number> {
  let firstCommit = NaN;
  let lastLag = -1n;
  let movedAt = Date.now();
  for (;;) {
    const err = failed(connect);
    if (err) throw err;
    const [offsets] = await admin.fetchOffsets({ groupId: target.group, topics: [target.topic] });
    // a partition with no commit yet has offset -1: none
    const committed = new Map((offsets?.partitions ?? []).filter((p) => BigInt(p.offset) >= 0n).map((p) => [p.partition, BigInt(p.offset)]));
    const lag = totalLag(target.end, committed);
    if (Number.isNaN(firstCommit) && [...committed.values()].some((o) => o > 0n)) firstCommit = since();
    if (lag === 0n) return firstCommit;
    if (lag !== lastLag) [lastLag, movedAt] = [lag, Date.now()];
    if (Date.now() - movedAt > stallMs)
      throw new Error(`Kafka Connect's sink made no progress for ${stallMs / 1000} s (lag ${lag}): ${connect.tail.slice(-5).join(' | ')}`);
    await sleep(20);
  }
}
