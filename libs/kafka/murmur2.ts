/**
 * The Java client's partitioner (murmur2 of the key bytes, positive, modulo the partition count),
 * on 32-bit integer math: the same partition as kafkajs's DefaultPartitioner and every Java
 * producer, without kafkajs's 64-bit Long emulation (a tenth of the producer's CPU).
 */
export function murmur2(data: Buffer): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  const at = length & ~3;
  if (tail === 3) h ^= data[at + 2] << 16;
  if (tail >= 2) h ^= data[at + 1] << 8;
  if (tail >= 1) {
    h ^= data[at];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a key (a string, or its UTF-8 bytes). */
export function partitionFor(key: string | Buffer, partitions: number): number {
  return (murmur2(typeof key === 'string' ? Buffer.from(key, 'utf8') : key) & 0x7fffffff) % partitions;
}
