/**
 * mulberry32: a small, fast, deterministic generator of numbers in [0, 1), the same sequence for
 * the same seed on every run (`dasy data`'s files, the property and equivalence tests). Seed 0 is
 * taken as another constant: mulberry32's state must not start at 0.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
