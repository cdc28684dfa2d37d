import * as fs from 'fs';
import { parse } from 'csv-parse/sync';
import { Admin, Kafka, MessageHeaders } from '../../libs/kafka/port';
import { Pool } from 'pg';
import { waitCaughtUp } from '../../apps/pipeline';
import { createKafka } from '../../libs/kafka/client';
import { endOffsets, topicName, TopicId } from '../../libs/kafka/topics';
import { createLogger } from '../../libs/log';
import { RunningCli, startCli, TestEnv } from './harness';

/**
 * Shared by the fault-tolerance tests (faults*.e2e.test.ts): the expected tables computed
 * independently of dasy (csv-parse, last record per sku wins, count per name), an exact
 * comparison with what PostgreSQL holds, pipeline parts as restartable processes, and small
 * Kafka helpers.
 */

export interface Expected {
  products: Map<string, { name: string; description: string }>;
  counts: Map<string, number>;
}

/** The tables a clean ingest of these files, in this order, must leave. */
export function expectedFromFiles(...files: string[]): Expected {
  const products = new Map<string, { name: string; description: string }>();
  for (const file of files) {
    const records = parse(fs.readFileSync(file), {
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      bom: true,
      skip_empty_lines: true,
    }) as Record<string, string>[];
    for (const r of records) {
      const sku = r.sku.trim();
      const name = r.name.trim();
      if (!sku || !name) continue;
      products.delete(sku); // keep the map in last-seen order (irrelevant for the check, tidy for debugging)
      products.set(sku, { name, description: r.description });
    }
  }
  return { products, counts: countsOf(products) };
}

export function countsOf(products: Map<string, { name: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of products.values()) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
  return counts;
}

/** CSV text of records (header name,sku,description), quoting what needs it. */
export function csv(records: [name: string, sku: string, description: string][]): string {
  const q = (v: string) => (/[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v);
  return ['name,sku,description', ...records.map((r) => r.map(q).join(','))].join('\n') + '\n';
}

export interface TableDiff {
  products: number;
  names: number;
  productsMissing: string[];
  productsExtra: string[];
  productsDiffer: string[];
  countsMissing: string[];
  countsExtra: string[];
  countsDiffer: string[];
}

/** products and product_count (or a declared dataset's tables of their shape) against the expectation: the first few differences of each kind (empty lists = exact). */
export async function diffTables(pool: Pool, expected: Expected, tables = { rows: 'products', counts: 'product_count' }): Promise<TableDiff> {
  const products = (await pool.query<{ sku: string; name: string; description: string }>(`SELECT sku, name, description FROM ${tables.rows}`)).rows;
  const counts = (await pool.query<{ name: string; no_of_products: number }>(`SELECT name, no_of_products::int FROM ${tables.counts}`)).rows;
  const first = (xs: string[]) => xs.slice(0, 5);
  const seen = new Set<string>();
  const productsExtra: string[] = [];
  const productsDiffer: string[] = [];
  for (const p of products) {
    seen.add(p.sku);
    const e = expected.products.get(p.sku);
    if (!e) productsExtra.push(p.sku);
    else if (e.name !== p.name || e.description !== p.description)
      productsDiffer.push(`${p.sku}: ${JSON.stringify([p.name, p.description])} instead of ${JSON.stringify([e.name, e.description])}`);
  }
  const productsMissing = [...expected.products.keys()].filter((sku) => !seen.has(sku));
  const seenNames = new Set<string>();
  const countsExtra: string[] = [];
  const countsDiffer: string[] = [];
  for (const c of counts) {
    seenNames.add(c.name);
    const e = expected.counts.get(c.name);
    if (e === undefined) countsExtra.push(`${c.name}=${c.no_of_products}`);
    else if (e !== c.no_of_products) countsDiffer.push(`${c.name}: ${c.no_of_products} instead of ${e}`);
  }
  const countsMissing = [...expected.counts.keys()].filter((n) => !seenNames.has(n));
  return {
    products: products.length,
    names: counts.length,
    productsMissing: first(productsMissing),
    productsExtra: first(productsExtra),
    productsDiffer: first(productsDiffer),
    countsMissing: first(countsMissing),
    countsExtra: first(countsExtra),
    countsDiffer: first(countsDiffer),
  };
}

/** What diffTables returns when the tables are exactly the expectation. */
export function exact(expected: Expected): TableDiff {
  return {
    products: expected.products.size,
    names: expected.counts.size,
    productsMissing: [],
    productsExtra: [],
    productsDiffer: [],
    countsMissing: [],
    countsExtra: [],
    countsDiffer: [],
  };
}

/** A pipeline part as a process of the test's world that can be killed and started again. */
export class Part {
  readonly runs: RunningCli[] = [];
  constructor(
    private readonly t: TestEnv,
    readonly args: string[],
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}
  start(env: NodeJS.ProcessEnv = {}): this {
    this.runs.push(startCli(this.t, this.args, { ...this.env, ...env }));
    return this;
  }
  get current(): RunningCli {
    return this.runs[this.runs.length - 1];
  }
  alive(): boolean {
    const c = this.current?.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }
  async sigkill(): Promise<void> {
    const run = this.current;
    if (!this.alive()) return;
    run.child.kill('SIGKILL');
    await run.exited;
  }
  /** SIGTERM, as a user's Ctrl-C: the part finishes or abandons its batch and exits. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    if (!this.alive()) return undefined;
    this.current.child.kill('SIGTERM');
    return this.current.exited;
  }
  /** stderr of every run so far */
  stderr(): string {
    return this.runs.map((r) => r.stderr()).join('');
  }
}

/** The pipeline's long-running parts: N products consumers, the relay, the product-count consumer. */
export function pipelineParts(t: TestEnv, products = 2, env: NodeJS.ProcessEnv = {}) {
  return {
    products: Array.from({ length: products }, () => new Part(t, ['products-consumer', '--consumers', '1'], env)),
    relay: new Part(t, ['product-count-producer'], env),
    counter: new Part(t, ['product-count-consumer'], env),
  };
}

export function kafkaOf(t: TestEnv): Kafka {
  return createKafka({ brokers: t.config.kafkaBrokers, clientId: 'dasy-faults-test', logger: createLogger('faults-test', 'error') });
}

/** Until products, the outbox and product_count are caught up with everything in the topics. */
export async function caughtUp(t: TestEnv, admin: Admin): Promise<void> {
  await waitCaughtUp({ config: t.config, pool: t.pool, admin, pollMs: 100, logger: createLogger('faults-test', 'error') });
}

/** Messages in a topic (sum of its partitions' end offsets). */
export async function messagesIn(admin: Admin, topic: string): Promise<number> {
  let n = 0n;
  for (const high of (await endOffsets(admin, topic)).values()) n += high;
  return Number(n);
}

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** The first `count` messages of a topic (all partitions), read by a throwaway group. */
export async function readMessages(kafka: Kafka, topic: string, count: number, timeoutMs = 30000): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: `faults-reader-${Date.now()}-${Math.random().toString(16).slice(2)}`, maxWaitTimeInMs: 100 });
  const seen: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen.length} of ${count} messages of ${topic}`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            seen.push({
              partition,
              offset: String(message.offset),
              key: message.key?.toString('utf8') ?? null,
              value: message.value?.toString('utf8') ?? null,
              headers: headersOf(message.headers),
            });
            if (seen.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

function headersOf(headers: MessageHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v ?? '');
  return out;
}

/** Stored offsets of a pipeline group equal the topic's end offsets (everything in it applied). */
export async function appliedAll(t: TestEnv, admin: Admin, topicId: TopicId, app: string): Promise<boolean> {
  const topic = topicName(t.namespace, topicId);
  const end = await endOffsets(admin, topic);
  const { rows } = await t.pool.query<{ partition: number; next_offset: string }>(
    'SELECT partition, next_offset FROM dasy_consumer_offsets WHERE group_id = $1 AND topic = $2',
    [`${t.namespace}.${app}`, topic],
  );
  const stored = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
  for (const [p, high] of end) if ((stored.get(p) ?? 0n) < high) return false;
  return true;
}

/** Lines of a part's stderr that match. */
export function linesMatching(text: string, re: RegExp): string[] {
  return text.split('\n').filter((l) => re.test(l));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
