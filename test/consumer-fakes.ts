import { DatabaseError, Pool, PoolClient, QueryResult } from 'pg';
import { PoisonMessageError } from '../libs/errors';
import { PendingBatch } from '../libs/consumer/commit-strategy';
import { ConsumerContext } from '../libs/consumer/context';
import { BatchLetters, DEAD_LETTER_HEADERS, DeadLetters } from '../libs/consumer/dead-letters';
import { ConsumerEvents } from '../libs/consumer/events';
import { BatchApp, BatchInfo, Item, Poison } from '../libs/consumer/types';
import { Kafka, KafkaMessage, Message } from '../libs/kafka/port';
import { createLogger } from '../libs/log';
import { outageNotice } from '../libs/resilience/outage';

/**
 * Fakes for the consumer base's unit tests (libs/consumer/*.test.ts): PostgreSQL as the base's
 * statements see it, a dead-letter topic, an app, batches. The e2e suite runs the real ones.
 */

/** What a transaction sees: the offsets table, the rows the app applied, the dead letters counted. */
interface State {
  offsets: Map<number, bigint>;
  rows: string[];
  deadLetters: number;
}
const copy = (s: State): State => ({ offsets: new Map(s.offsets), rows: [...s.rows], deadLetters: s.deadLetters });

/** A PostgreSQL error with its SQLSTATE, as pg hands it over. */
export function sqlError(code: string, message = `sqlstate ${code}`): DatabaseError {
  const err = new DatabaseError(message, message.length, 'error');
  err.code = code;
  return err;
}

/**
 * PostgreSQL for the consumer base: transactions and savepoints over the offsets table, the app's
 * rows (`apply` statements) and the dead-letter count, with the aborted state of a transaction
 * after an error (every statement refused until ROLLBACK or ROLLBACK TO SAVEPOINT; COMMIT rolls
 * back). `trips` logs every round trip, in order, with the dead-letter sends (FakeDeadLetterTopic).
 */
export class FakePostgres {
  committed: State = { offsets: new Map(), rows: [], deadLetters: 0 };
  /** every round trip to the server (statements sent together joined by '; '), and every dead-letter send */
  readonly trips: string[] = [];
  /** values PostgreSQL refuses for good, whatever the statement applying them */
  readonly refused = new Map<string, string>(); // value → SQLSTATE
  /** refuse any `apply` of more than one value (a refusal only the whole batch meets) */
  refuseSetsOfMany = false;
  private readonly failures: { label: string; err: Error }[] = [];
  private connections = 0;
  private inTransaction = 0;

  /** Throw err at the next statement whose label starts with `label` (once); a 08/57 error also closes the connection. */
  failNext(label: string, err: Error): void {
    this.failures.push({ label, err });
  }

  /** connections taken from the pool and not released */
  get checkedOut(): number {
    return this.connections;
  }

  /** transactions open now (a dead letter must never be sent while one is) */
  get openTransactions(): number {
    return this.inTransaction;
  }

  stored(): Record<number, string> {
    return Object.fromEntries([...this.committed.offsets].map(([p, o]) => [p, o.toString()]));
  }

  pool(): Pool {
    const pool = {
      connect: async () => this.connect(),
      // a statement outside any transaction: on a connection of its own
      query: async (text: string, values?: unknown[]) => {
        const client = this.connect();
        try {
          return await client.query(text, values);
        } finally {
          client.release();
        }
      },
    };
    return pool as unknown as Pool;
  }

  private connect(): PoolClient {
    this.connections++;
    const session: Session = { tx: undefined, begun: undefined, savepoints: [], aborted: false, closed: false };
    const client = {
      query: async (text: string, values?: unknown[]) => {
        const statements = text.split('; ');
        const label = (s: string, i: number) => this.label(s, i === 0 ? values : undefined);
        this.trips.push(statements.map(label).join('; '));
        const results: QueryResult[] = [];
        for (const [i, s] of statements.entries()) results.push(await this.run(session, s, i === 0 ? values : undefined));
        return statements.length > 1 ? results : results[0];
      },
      release: () => {
        this.connections--;
        if (session.tx) this.inTransaction--; // a broken connection: its transaction is gone
      },
    };
    return client as unknown as PoolClient;
  }

  private async run(session: Session, text: string, values: unknown[] | undefined): Promise<QueryResult> {
    if (session.closed) throw sqlError('08006', 'connection terminated');
    const label = this.label(text, values);
    const failure = this.failures.findIndex((f) => label.startsWith(f.label));
    if (failure >= 0) {
      const [{ err }] = this.failures.splice(failure, 1);
      if (/^(08|57)/.test((err as DatabaseError).code ?? '')) session.closed = true;
      if (session.tx) session.aborted = true;
      throw err;
    }
    if (text === 'BEGIN') {
      session.begun = copy(this.committed);
      session.tx = copy(this.committed);
      this.inTransaction++;
      return result(0);
    }
    if (text === 'COMMIT' || text === 'ROLLBACK') {
      if (text === 'COMMIT' && !session.aborted && session.tx) this.commit(session.tx, session.begun!);
      if (session.tx) this.inTransaction--;
      Object.assign(session, { tx: undefined, savepoints: [], aborted: false });
      return result(0);
    }
    if (text === 'ROLLBACK TO SAVEPOINT dasy_item') {
      session.tx = copy(session.savepoints[session.savepoints.length - 1]);
      session.aborted = false;
      return result(0);
    }
    if (session.aborted) throw sqlError('25P02', 'current transaction is aborted');
    try {
      return this.statement(session.tx ?? copy(this.committed), session, text, values);
    } catch (err) {
      if (session.tx) session.aborted = true;
      throw err;
    }
  }

  /** What a transaction changed since its BEGIN, onto what others committed meanwhile (other partitions). */
  private commit(tx: State, begun: State): void {
    for (const [partition, at] of tx.offsets) if (begun.offsets.get(partition) !== at) this.committed.offsets.set(partition, at);
    this.committed.rows.push(...tx.rows.slice(begun.rows.length));
    this.committed.deadLetters += tx.deadLetters - begun.deadLetters;
  }

  private statement(tx: State, session: Session, text: string, values: unknown[] | undefined): QueryResult {
    if (text === 'SAVEPOINT dasy_item') return (session.savepoints.push(copy(tx)), result(0));
    if (text === 'RELEASE SAVEPOINT dasy_item') return (session.savepoints.pop(), result(0));
    if (text === 'apply' || text === 'apply many') {
      const applied = values![0] as string[];
      const refusal = applied.map((v) => this.refused.get(v)).find(Boolean);
      if (refusal) throw sqlError(refusal, `refused ${applied.join(',')}`);
      if (this.refuseSetsOfMany && applied.length > 1) throw sqlError('23505', 'refused together');
      tx.rows.push(...applied);
      return result(applied.length);
    }
    if (text === 'dead-lettered') return result(0);
    if (text.startsWith('INSERT INTO dasy_dead_letters')) return ((tx.deadLetters += Number(values![1])), result(1));
    const ranges = offsetRanges(text, values);
    if (ranges) {
      const moved = ranges.filter((r) => tx.offsets.get(r.partition) === r.from);
      for (const r of moved) tx.offsets.set(r.partition, r.to);
      return result(moved.length);
    }
    if (text.includes('FOR UPDATE')) {
      const at = tx.offsets.get(Number(values![2]));
      return result(at === undefined ? 0 : 1, at === undefined ? [] : [{ next_offset: at.toString() }]);
    }
    if (text.startsWith('INSERT INTO dasy_consumer_offsets')) {
      const partition = Number(values![2]);
      if (tx.offsets.has(partition)) return result(0);
      tx.offsets.set(partition, BigInt(values![3] as string));
      return result(1);
    }
    if (text.startsWith('SELECT partition, next_offset')) {
      const rows = [...tx.offsets].map(([partition, at]) => ({ partition, next_offset: at.toString() }));
      return result(rows.length, rows);
    }
    throw new Error(`FakePostgres: unknown statement ${text}`);
  }

  /** A statement as the tests read it: `advance 0:10→13`, `read 0`, `insert 0:13`, `apply a,b`, `count dead letters +1`. */
  private label(text: string, values: unknown[] | undefined): string {
    const ranges = offsetRanges(text, values);
    if (ranges) return `advance ${ranges.map((r) => `${r.partition}:${r.from}→${r.to}`).join(' ')}`;
    if (text.includes('FOR UPDATE')) return `read ${String(values![2])}`;
    if (text.startsWith('INSERT INTO dasy_consumer_offsets')) return `insert ${String(values![2])}:${String(values![3])}`;
    if (text.startsWith('SELECT partition, next_offset')) return 'stored offsets';
    if (text.startsWith('INSERT INTO dasy_dead_letters')) return `count dead letters +${String(values![1])}`;
    if (text === 'apply' || text === 'apply many' || text === 'dead-lettered') return `${text} ${(values![0] as string[]).join(',')}`;
    return text.replace(' SAVEPOINT dasy_item', '').replace('SAVEPOINT dasy_item', 'SAVEPOINT');
  }
}

type Session = { tx: State | undefined; begun: State | undefined; savepoints: State[]; aborted: boolean; closed: boolean };

const result = (rowCount: number, rows: unknown[] = []) => ({ rowCount, rows }) as unknown as QueryResult;

/** The offsets a compare-and-set of libs/db/offsets.ts moves: parameters, one literal range, or literal VALUES. */
function offsetRanges(text: string, values: unknown[] | undefined): { partition: number; from: bigint; to: bigint }[] | undefined {
  if (!text.startsWith('UPDATE dasy_consumer_offsets')) return undefined;
  if (values) return [{ partition: Number(values[2]), from: BigInt(values[3] as string), to: BigInt(values[4] as string) }];
  const one = /SET next_offset = (\d+),.* partition = (\d+) AND next_offset = (\d+)$/.exec(text);
  if (one) return [{ partition: Number(one[2]), from: BigInt(one[3]), to: BigInt(one[1]) }];
  return [...text.matchAll(/\((\d+), (\d+)::bigint, (\d+)::bigint\)/g)].map((m) => ({ partition: Number(m[1]), from: BigInt(m[2]), to: BigInt(m[3]) }));
}

/** An app over FakePostgres: a message's value is its item; `!…` cannot be decoded; apply sends one `apply` statement. */
export function fakeApp(options: { applyMany?: boolean } = {}): BatchApp<string> {
  return {
    decode(message) {
      const value = message.value!.toString();
      if (value.startsWith('!')) throw new PoisonMessageError(`cannot decode ${value}`);
      return value;
    },
    apply: async (client, items) => void (await client.query('apply', [items])),
    applyMany: options.applyMany ? async (client, batches) => void (await client.query('apply many', [batches.flatMap((b) => b.items)])) : undefined,
    deadLettered: async (client, letters) => void (await client.query('dead-lettered', [letters.map((l) => l.offset.toString())])),
  };
}

/** The producer of `<topic>.dlq`: each send is logged in the trips, and must happen with no transaction open. */
function fakeKafka(db: FakePostgres): Kafka {
  const send = async ({ topic, messages }: { topic: string; messages: Message[] }) => {
    if (db.openTransactions) throw new Error('a dead letter sent while a transaction is open');
    db.trips.push(`send ${topic} ${messages.map((m) => String(m.headers![DEAD_LETTER_HEADERS.offset])).join(',')}`);
    return [];
  };
  const producer = { connect: async () => undefined, disconnect: async () => undefined, send };
  return { producer: () => producer } as unknown as Kafka;
}

/** A consumer's context over FakePostgres (partitions begin at offset 0), its log lines kept in `logged`. */
export function fakeContext(db: FakePostgres, app: BatchApp<string>) {
  const logged: string[] = [];
  const log = createLogger('test', 'debug', (line) => logged.push(line.replace(/^\S+ /, '')));
  const events = new ConsumerEvents();
  const kafka = fakeKafka(db);
  let stopping = false;
  const ctx: ConsumerContext<string> = {
    options: { kafka, pool: db.pool(), logger: log, groupId: 'g', topic: 't', app },
    kafka,
    log,
    events,
    deadLetters: new DeadLetters({ kafka, topic: 't', dlq: 't.dlq', log, events }),
    postgres: outageNotice(log, 'PostgreSQL'),
    key: (partition) => ({ group: 'g', topic: 't', partition }),
    logStart: async () => 0n,
    stopping: () => stopping,
  };
  return { ctx, logged, stop: () => void (stopping = true) };
}

export function message(offset: bigint, value: string): KafkaMessage {
  return { key: null, value: Buffer.from(value), headers: {}, offset, timestamp: '0' };
}

/** Messages of consecutive offsets from `first`, one per value. */
export function messages(first: bigint, values: string[]): KafkaMessage[] {
  return values.map((v, i) => message(first + BigInt(i), v));
}

/** A batch of partition `partition` from `first`, decoded as the runner does: `!…` values are undecodable. */
export function pendingBatch(partition: number, first: bigint, values: string[], live = () => true): PendingBatch<string> {
  const items: Item<string>[] = [];
  const poison: Poison[] = [];
  for (const m of messages(first, values)) {
    const value = m.value!.toString();
    if (value.startsWith('!')) poison.push({ message: m, reason: `cannot decode ${value}` });
    else items.push({ message: m, value });
  }
  const info: BatchInfo = {
    topic: 't',
    partition,
    firstOffset: first,
    nextOffset: first + BigInt(values.length),
    highWatermark: first + BigInt(values.length),
  };
  return { items, poison, info, letters: new BatchLetters(), live };
}
