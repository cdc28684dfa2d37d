import { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { asDbError } from './pool';

/**
 * PostgreSQL's binary COPY format, written straight into one buffer: a batch reaches the server as
 * the bytes of its values, with nothing for the server to parse (no text array literals to split
 * and unescape) and nothing for Node to escape. Fields are text (a string or its UTF-8 bytes),
 * int4, or NULL.
 */
export class BinaryCopy {
  private buf: Buffer;
  private at = 0;
  private rows = 0;

  constructor(
    private readonly columns: number,
    initialBytes = 1 << 16,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, 64));
    this.buf.write('PGCOPY\n\xff\r\n\0', 0, 'latin1'); // signature
    this.buf.writeInt32BE(0, 11); // flags
    this.buf.writeInt32BE(0, 15); // header extension length
    this.at = 19;
  }

  /** Start a row: its fields follow, exactly `columns` of them. */
  row(): this {
    this.room(2);
    this.buf.writeInt16BE(this.columns, this.at);
    this.at += 2;
    this.rows++;
    return this;
  }

  text(value: string | Buffer | null): this {
    if (value === null) return this.nul();
    if (typeof value === 'string') {
      // at most 3 bytes per UTF-16 unit; the length is written once the bytes are
      this.room(4 + 3 * value.length);
      const n = this.buf.write(value, this.at + 4, 'utf8');
      this.buf.writeInt32BE(n, this.at);
      this.at += 4 + n;
    } else {
      this.room(4 + value.length);
      this.buf.writeInt32BE(value.length, this.at);
      value.copy(this.buf, this.at + 4);
      this.at += 4 + value.length;
    }
    return this;
  }

  int4(value: number): this {
    this.room(8);
    this.buf.writeInt32BE(4, this.at);
    this.buf.writeInt32BE(value, this.at + 4);
    this.at += 8;
    return this;
  }

  nul(): this {
    this.room(4);
    this.buf.writeInt32BE(-1, this.at);
    this.at += 4;
    return this;
  }

  get rowCount(): number {
    return this.rows;
  }

  /** The whole COPY payload, trailer included. */
  finish(): Buffer {
    this.room(2);
    this.buf.writeInt16BE(-1, this.at);
    return this.buf.subarray(0, this.at + 2);
  }

  private room(bytes: number) {
    if (this.at + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
}

/**
 * `COPY <table> FROM STDIN (FORMAT binary)` of a payload, on the caller's connection (and
 * transaction). The stream's failures are classified as a query's are (asDbError): a connection
 * lost mid-COPY is PostgreSQL unavailable, not an error of the batch.
 */
export function copyInto(client: PoolClient, table: string, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = client.query(copyFrom(`COPY ${table} FROM STDIN (FORMAT binary)`));
    stream.on('error', (err: Error) => {
      const classified = asDbError(err);
      reject(classified instanceof Error ? classified : err);
    });
    stream.on('finish', () => resolve());
    stream.end(payload);
  });
}
