/**
 * Loaded first by the CLI: an error while its modules load (an unpatched kafkajs, say: see
 * libs/kafka/kafkajs-check.ts) is one line on stderr and exit 1, not a stack trace.
 */
const onLoadError = (err: unknown) => {
  process.stderr.write(`dasy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
};
process.once('uncaughtException', onLoadError);

/** Every module loaded: from here on, runMain reports errors. */
export function loaded(): void {
  process.off('uncaughtException', onLoadError);
}
