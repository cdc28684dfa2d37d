export default async function globalTeardown(): Promise<void> {
  const containers = ((globalThis as Record<string, unknown>).__dasyContainers ?? []) as { stop(): Promise<unknown> }[];
  await Promise.all(containers.map((c) => c.stop()));
}
