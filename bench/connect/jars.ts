import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { say } from '../context';

/** Kafka Connect's jars: fetched by Maven from Maven Central into .stack/connect-libs (infra/connect/pom.xml). */
const ROOT = path.resolve(__dirname, '..', '..', '..');
export const LIBS = path.join(ROOT, '.stack', 'connect-libs');
const POM = path.join(ROOT, 'infra', 'connect', 'pom.xml');
/** the jars Connect and the sink need, by file name prefix (their versions are the pom's) */
const NEEDED = ['connect-runtime-', 'connect-json-', 'debezium-connector-jdbc-', 'postgresql-'];

export interface ConnectVersions {
  kafkaConnect: string;
  debeziumJdbc: string;
  postgresql: string;
}

/** The jars in .stack/connect-libs, fetched with Maven when missing; false (said once) if they cannot be. */
export function connectLibsReady(): boolean {
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (java.error || java.status !== 0) {
    say('stages: no java here; skipping the Kafka Connect comparison');
    return false;
  }
  if (haveLibs()) return true;
  say(`stages: fetching Kafka Connect and the Debezium JDBC sink (mvn -f ${path.relative(ROOT, POM)} dependency:copy-dependencies)`);
  const mvn = spawnSync('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (mvn.error || mvn.status !== 0 || !haveLibs()) {
    const why = mvn.error ? mvn.error.message : (mvn.stderr || '').trim().split('\n').pop();
    say(`stages: could not fetch Kafka Connect's jars (${why || `mvn exited ${mvn.status}`}); skipping the Kafka Connect comparison`);
    return false;
  }
  return true;
}

function haveLibs(): boolean {
  const jars = fs.existsSync(LIBS) ? fs.readdirSync(LIBS) : [];
  return NEEDED.every((prefix) => jars.some((j) => j.startsWith(prefix) && j.endsWith('.jar')));
}

export function connectVersions(): ConnectVersions {
  const jars = fs.readdirSync(LIBS);
  const version = (prefix: string) => jars.find((j) => j.startsWith(prefix))?.slice(prefix.length, -'.jar'.length) ?? '?';
  return { kafkaConnect: version('connect-runtime-'), debeziumJdbc: version('debezium-connector-jdbc-'), postgresql: version('postgresql-') };
}
