/** Seeded randomness for property tests: failures replay from the printed seed. */

/** A small, fast PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi]. */
export function int(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** `n` random bytes. */
export function bytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 256) | 0;
  return out;
}

const ALPHABETS = ["abcXYZ019-_", "äöüßé", "日本語中文", "😀🚀𝄞🧪"];

/** A random well-formed string of `n` code points, mixing 1- to 4-byte UTF-8 characters. */
export function text(rand: () => number, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) {
    const chars = [...ALPHABETS[int(rand, 0, ALPHABETS.length - 1)]];
    out += chars[int(rand, 0, chars.length - 1)];
  }
  return out;
}
