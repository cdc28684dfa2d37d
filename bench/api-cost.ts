import { Pool } from 'pg';
import { backendTracker } from './pipeline';
import { byLabel, findKafkaPid, ProcSampler } from './proc';
import { fmt, round } from './stats';

/** CPU seconds spent during one measured load, by the processes a push goes through. */
export interface LoadCpu {
  /** autocannon, in the bench's own process */
  loadGenerator: number;
  /** the server under load (`dasy api` or the bare server) */
  server: number;
  kafka: number;
  /** every PostgreSQL backend serving the server's database */
  postgres: number;
}

/**
 * The CPU of the processes behind one server while it is under load: the server's process tree,
 * the Kafka broker and the PostgreSQL backends of `database` (sampled from /proc, as the ingest
 * figures are), and the bench's own process, where autocannon runs.
 */
export class CpuMeter {
  private readonly sampler: ProcSampler;
  private readonly backends: ReturnType<typeof backendTracker> | undefined;
  private readonly kafkaPid: number | undefined;

  constructor(serverPid: number, backing?: { pool: Pool; database: string }) {
    this.kafkaPid = backing ? findKafkaPid() : undefined;
    this.backends = backing ? backendTracker(backing.pool, backing.database) : undefined;
    const extra = () => [...(this.backends?.pids() ?? []), ...(this.kafkaPid ? [this.kafkaPid] : [])];
    this.sampler = new ProcSampler(serverPid, extra, 200, (pid) => this.backends?.label(pid)).start();
  }

  /** Run `load` and return what it cost each process. */
  async during<T>(load: () => Promise<T>): Promise<{ result: T; cpu: LoadCpu }> {
    const before = this.read();
    const own = process.cpuUsage();
    const result = await load();
    const used = process.cpuUsage(own);
    const after = this.read();
    return {
      result,
      cpu: {
        loadGenerator: (used.user + used.system) / 1e6,
        server: after.server - before.server,
        kafka: after.kafka - before.kafka,
        postgres: after.postgres - before.postgres,
      },
    };
  }

  async stop(): Promise<void> {
    this.sampler.stop();
    await this.backends?.stop();
  }

  private read() {
    this.sampler.sample();
    const out = { server: 0, kafka: 0, postgres: 0 };
    for (const [label, f] of Object.entries(byLabel(this.sampler.figures()))) {
      if (label === 'kafka') out.kafka += f.cpuSeconds;
      else if (label.startsWith('pg:') || label === 'postgres') out.postgres += f.cpuSeconds;
      else out.server += f.cpuSeconds;
    }
    return out;
  }
}

/** CPU seconds per 1,000 pushes, each process and their sum. */
export function perThousand(cpu: LoadCpu, pushes: number): LoadCpu & { total: number } {
  const k = pushes > 0 ? 1000 / pushes : NaN;
  const each = {
    loadGenerator: round(cpu.loadGenerator * k),
    server: round(cpu.server * k),
    kafka: round(cpu.kafka * k),
    postgres: round(cpu.postgres * k),
  };
  return { ...each, total: round(each.loadGenerator + each.server + each.kafka + each.postgres) };
}

/** `load generator 0.21, api 0.30, Kafka 0.05, PostgreSQL 0.12` */
export function cpuNote(c: LoadCpu, server: string): string {
  const backed = c.kafka || c.postgres ? `, Kafka ${fmt(c.kafka)}, PostgreSQL ${fmt(c.postgres)}` : '';
  return `load generator ${fmt(c.loadGenerator)}, ${server} ${fmt(c.server)}${backed}`;
}
