/**
 * Waits for `work` at most `ms`: whether it settled in time. A stop step that talks to Kafka (a
 * disconnect, a group's leave or deletion) retries for as long as a broker that is down stays
 * down; the api's stop does not wait for it (what the step would have tidied is tidied by Kafka
 * itself: sessions expire, the next start rejoins).
 */
export async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
