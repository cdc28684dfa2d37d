/**
 * The e2e suite's processes run on the Node that runs jest (the harness starts the CLI with
 * process.execPath), so jest must run on one dasy supports (README: Node.js): make, `npm test` and
 * `npx jest` start node_modules/.bin/node; node_modules/.bin/jest from a shell starts the shell's.
 */
export function unsupportedNode(version: string, execPath: string): string | undefined {
  const major = /^v(\d+)\./.exec(version)?.[1];
  if (major === '22' || major === '24') return undefined;
  return `the e2e suite runs on Node.js 22 or 24, but this jest runs on ${version} (${execPath}): run it through make (make test-e2e) or npx jest, which start node_modules/.bin/node`;
}
