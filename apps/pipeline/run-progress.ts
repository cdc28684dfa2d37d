import { Pool } from '../../libs/db';
import { storedOffsets } from '../../libs/db/offsets';
import { Admin } from '../../libs/kafka/port';
import { endOffsets, totalLag } from '../../libs/kafka/topics';
import { createProgress, progressShown } from '../../libs/progress';
import { pipelineLine, ReadSample, RunSample, StageSample } from '../../libs/progress/pipeline-line';

/** A stage of a run: a consumer group on its topic (full names). */
export interface RunStage {
  name: string;
  group: string;
  topic: string;
}

/** What the run tells its progress line. */
export interface RunProgress {
  /** the producer's position in its file */
  reading: (r: ReadSample) => void;
  readDone: () => void;
  stop: () => void;
}

/**
 * The run's one progress line on a TTY (libs/progress/pipeline-line.ts): the producer says how
 * far it has read; each stage's lag is polled twice a second (end offsets from Kafka, stored
 * offsets from PostgreSQL). Off a TTY it does nothing at all: no polls, no line.
 */
export function trackRun(options: { label: string; admin: Admin; pool: Pool; stages: RunStage[]; pollMs?: number }): RunProgress {
  const enabled = progressShown();
  const progress = createProgress(enabled);
  let read: ReadSample | undefined;
  let readDone = false;
  let first: RunSample | undefined;
  let stopped = !enabled;
  const poll = async () => {
    while (!stopped) {
      const stages = await sampleStages(options).catch(() => undefined);
      if (stages && !stopped) {
        const now: RunSample = { at: Date.now(), read, readDone, stages };
        first ??= now;
        progress.update(pipelineLine(options.label, first, now));
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
    }
  };
  // every failure of a poll is caught inside it: the line is best effort
  if (enabled) poll().catch(() => undefined);
  return {
    reading: (r) => (read = r),
    readDone: () => (readDone = true),
    stop() {
      stopped = true;
      progress.done();
    },
  };
}

async function sampleStages(options: { admin: Admin; pool: Pool; stages: RunStage[] }): Promise<StageSample[]> {
  return Promise.all(
    options.stages.map(async ({ name, group, topic }) => {
      const [end, stored] = await Promise.all([endOffsets(options.admin, topic), storedOffsets(options.pool, group, topic)]);
      return { name, lag: totalLag(end, stored), applied: [...stored.values()].reduce((a, b) => a + b, 0n) };
    }),
  );
}
