import * as fs from 'fs';
import Module from 'module';
import * as path from 'path';

/**
 * A faster encoder for kafkajs 2.2.4's Produce request (versions 3 to 7, the record batch format
 * of magic 2), byte for byte the same as kafkajs's (libs/kafka/produce-encoder.test.ts compares
 * them). kafkajs encodes each record into its own growing buffer, each varint into a fresh
 * Buffer, copies everything again at every level and checks the CRC a byte at a time: about half
 * of a producer's CPU for small records. This computes every size first, writes the whole request
 * into one buffer, and computes CRC-32C eight bytes at a time.
 *
 * Requests it does not handle the same way (compression, headers, timestamps, keys or values
 * that are neither strings nor Buffers) go to kafkajs's own encoder, unchanged.
 */

type Long = { high: number; low: number; getHighBits(): number; getLowBits(): number };
interface LongStatic {
  fromValue(v: unknown): Long;
  fromInt(v: number): Long;
}
interface EncoderInstance {
  buf: Buffer;
  offset: number;
}

interface ProduceMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, unknown>;
  timestamp?: unknown;
}
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: { partition: number; firstSequence?: number; messages: ProduceMessage[] }[] }[];
}

// ---------------------------------------------------------------------------------------------
// CRC-32C (Castagnoli), slicing by 8

const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  const t = CRC_TABLES;
  let crc = -1;
  let i = start;
  const end8 = start + ((end - start) & ~7);
  while (i < end8) {
    const a = (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)) ^ crc;
    crc =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + buf[i + 4]] ^
      t[512 + buf[i + 5]] ^
      t[256 + buf[i + 6]] ^
      t[buf[i + 7]];
    i += 8;
  }
  while (i < end) crc = t[(crc ^ buf[i++]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// varints (zigzag, as Kafka's)

function zigzag(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function uvarintSize(u: number): number {
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5;
}

function writeUVarint(buf: Buffer, at: number, u: number): number {
  while (u >= 0x80) {
    buf[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[at++] = u;
  return at;
}

function writeInt64(buf: Buffer, at: number, long: Long): number {
  buf.writeInt32BE(long.getHighBits(), at);
  buf.writeInt32BE(long.getLowBits(), at + 4);
  return at + 8;
}

/** Whether every message is of the plain kind this encoder writes. */
function plain(args: ProduceArgs): boolean {
  if (args.compression) return false;
  for (const t of args.topicData) {
    for (const p of t.partitions) {
      for (const m of p.messages) {
        if (m.timestamp != null) return false;
        if (m.headers !== undefined && (m.headers === null || Object.keys(m.headers).length)) return false;
        const k = m.key;
        const v = m.value;
        if (k != null && typeof k !== 'string' && !Buffer.isBuffer(k)) return false;
        if (v != null && typeof v !== 'string' && !Buffer.isBuffer(v)) return false;
      }
    }
  }
  return true;
}

function byteLength(x: Buffer | string | null | undefined): number {
  if (x == null) return -1;
  return typeof x === 'string' ? Buffer.byteLength(x, 'utf8') : x.length;
}

/** The Produce request body, exactly as kafkajs's v3 encoder writes it for plain messages. */
export function encodeProduceRequest(args: ProduceArgs, Long: LongStatic, now: () => number = Date.now): Buffer {
  const transactionalId = args.transactionalId ?? null;
  const producerId = Long.fromValue(args.producerId ?? Long.fromInt(-1));
  const producerEpoch = args.producerEpoch ?? 0;
  const attributes = transactionalId ? 16 : 0;

  // pass 1: sizes
  let count = 0;
  for (const t of args.topicData) for (const p of t.partitions) count += p.messages.length;
  const keyLen = new Int32Array(count);
  const valueLen = new Int32Array(count);
  const bodyLen = new Int32Array(count);
  let size = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId, 'utf8')) + 2 + 4 + 4;
  let i = 0;
  for (const t of args.topicData) {
    size += 2 + Buffer.byteLength(t.topic, 'utf8') + 4;
    for (const p of t.partitions) {
      // partition, record set size, first offset, batch length, leader epoch, magic, crc,
      // attributes, last offset delta, first and max timestamps, producer id and epoch,
      // first sequence, record count
      size += 4 + 4 + 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
      const ms = p.messages;
      for (let j = 0; j < ms.length; j++, i++) {
        const k = byteLength(ms[j].key);
        const v = byteLength(ms[j].value);
        keyLen[i] = k;
        valueLen[i] = v;
        // attributes, timestamp delta (0), offset delta, key, value, header count (0)
        const body = 1 + 1 + uvarintSize(zigzag(j)) + uvarintSize(zigzag(k)) + (k > 0 ? k : 0) + uvarintSize(zigzag(v)) + (v > 0 ? v : 0) + 1;
        bodyLen[i] = body;
        size += uvarintSize(zigzag(body)) + body;
      }
    }
  }

  // pass 2: bytes
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  if (transactionalId === null) {
    buf.writeInt16BE(-1, at);
    at += 2;
  } else {
    const n = Buffer.byteLength(transactionalId, 'utf8');
    buf.writeInt16BE(n, at);
    at = buf.write(transactionalId, at + 2, n, 'utf8') + at + 2;
  }
  buf.writeInt16BE(args.acks, at);
  buf.writeInt32BE(args.timeout, at + 2);
  buf.writeInt32BE(args.topicData.length, at + 6);
  at += 10;
  i = 0;
  for (const t of args.topicData) {
    const n = Buffer.byteLength(t.topic, 'utf8');
    buf.writeInt16BE(n, at);
    at += 2;
    at += buf.write(t.topic, at, n, 'utf8');
    buf.writeInt32BE(t.partitions.length, at);
    at += 4;
    for (const p of t.partitions) {
      const ms = p.messages;
      const timestamp = Long.fromValue(now());
      buf.writeInt32BE(p.partition, at);
      const recordSetAt = at + 4;
      // first offset 0
      buf.writeInt32BE(0, at + 8);
      buf.writeInt32BE(0, at + 12);
      const batchLengthAt = at + 16;
      buf.writeInt32BE(0, at + 20); // partition leader epoch
      buf[at + 24] = 2; // magic
      const crcAt = at + 25;
      const bodyAt = at + 29;
      at = bodyAt;
      buf.writeInt16BE(attributes, at);
      buf.writeInt32BE(ms.length - 1, at + 2);
      at = writeInt64(buf, at + 6, timestamp);
      at = writeInt64(buf, at, timestamp);
      at = writeInt64(buf, at, producerId);
      buf.writeInt16BE(producerEpoch, at);
      buf.writeInt32BE(p.firstSequence ?? 0, at + 2);
      buf.writeInt32BE(ms.length, at + 6);
      at += 10;
      for (let j = 0; j < ms.length; j++, i++) {
        const m = ms[j];
        at = writeUVarint(buf, at, zigzag(bodyLen[i]));
        buf[at++] = 0; // attributes
        buf[at++] = 0; // timestamp delta
        at = writeUVarint(buf, at, zigzag(j));
        const k = keyLen[i];
        at = writeUVarint(buf, at, zigzag(k));
        if (k > 0) at += typeof m.key === 'string' ? buf.write(m.key, at, k, 'utf8') : (m.key as Buffer).copy(buf, at);
        const v = valueLen[i];
        at = writeUVarint(buf, at, zigzag(v));
        if (v > 0) at += typeof m.value === 'string' ? buf.write(m.value, at, v, 'utf8') : (m.value as Buffer).copy(buf, at);
        buf[at++] = 0; // no headers
      }
      buf.writeUInt32BE(crc32c(buf, bodyAt, at), crcAt);
      buf.writeInt32BE(at - batchLengthAt - 4, batchLengthAt);
      buf.writeInt32BE(at - recordSetAt - 4, recordSetAt);
    }
  }
  if (at !== size) throw new Error(`produce encoder: wrote ${at} bytes, expected ${size}`);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// installation into kafkajs (before its Produce request module is first required)

let installed = false;

export function installProduceEncoder(): void {
  if (installed) return;
  const target = require.resolve('kafkajs/src/protocol/requests/produce/v3/request');
  if (require.cache[target]) return; // too late: kafkajs loaded its own already
  installed = true;
  const dir = path.dirname(target);
  const req = (p: string) => require(path.join(dir, p));
  // kafkajs's own encoder, loaded from its source under another cache key: the fallback
  const original = new Module(`${target}#kafkajs`);
  original.filename = target;
  original.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dir);
  (original as unknown as { _compile(src: string, file: string): void })._compile(fs.readFileSync(target, 'utf8'), target);
  const kafkajsRequest = original.exports as (args: ProduceArgs) => { encode(): Promise<unknown> };
  const Encoder = req('../../../encoder') as new (size?: number) => EncoderInstance;
  const Long = req('../../../../utils/long') as LongStatic;

  const fastRequest = (args: ProduceArgs) => {
    const request = kafkajsRequest(args);
    return {
      ...request,
      encode: async () => {
        if (!plain(args)) return request.encode();
        const encoder = new Encoder(0);
        const buf = encodeProduceRequest(args, Long);
        encoder.buf = buf;
        encoder.offset = buf.length;
        return encoder;
      },
    };
  };
  const m = new Module(target);
  m.filename = target;
  m.loaded = true;
  m.exports = fastRequest;
  require.cache[target] = m;
}
