/**
 * Fault injection for the fault-tolerance tests (`node dist/dev/main.js product-count-producer
 * --kill-after-send`; never in the shipped `dasy`): the relay SIGKILLs its own process after the
 * broker acknowledged a drain's names and before the drain deletes their marks.
 */
export async function killAfterSend(sent: number): Promise<void> {
  process.stderr.write(`dasy: --kill-after-send: ${sent} name(s) sent; killing this process before the drain deletes its marks\n`);
  process.kill(process.pid, 'SIGKILL');
  await new Promise(() => undefined); // the signal arrives before anything else runs
}
