/**
 * MD5 of a short partition key, straight into four 32-bit words.
 *
 * Keyed mode hashes every distinct key once. Keys are short (at most 256
 * characters, usually a few dozen bytes), and a `node:crypto` hash object per
 * key costs far more than the hash: about 10 µs each in Deno, against well
 * under 1 µs for one 64-byte MD5 block computed here with no allocation
 * (scripts/bench/keyed.ts). Keys over 55 UTF-8 bytes need more than one
 * block and go to the general {@link md5}. Tests prove both identical.
 * @module
 */
import { md5 } from "./md5.ts";

/** Where the words go: `w0` is the most significant (digest bytes 0..3, big-endian). */
export interface HashWordsTarget {
  /** Digest bytes 0..3, big-endian. */
  w0: number;
  /** Digest bytes 4..7. */
  w1: number;
  /** Digest bytes 8..11. */
  w2: number;
  /** Digest bytes 12..15. */
  w3: number;
}

// Per-step additive constants: floor(|sin(i + 1)| * 2^32) (RFC 1321, section 3.4).
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;
// Per-round rotation amounts, four per round.
const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const M = new Int32Array(16);
const BLOCK = new Uint8Array(64);

function bswap(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** Writes MD5(`bytes`) into `out` as big-endian words. */
export function md5Words(bytes: Uint8Array, out: HashWordsTarget): void {
  const n = bytes.length;
  if (n > 55) {
    const d = md5(bytes);
    out.w0 = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
    out.w1 = ((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7]) >>> 0;
    out.w2 = ((d[8] << 24) | (d[9] << 16) | (d[10] << 8) | d[11]) >>> 0;
    out.w3 = ((d[12] << 24) | (d[13] << 16) | (d[14] << 8) | d[15]) >>> 0;
    return;
  }
  // One padded block: message, 0x80, zeros, bit length (little-endian) in bytes 56..63.
  const block = BLOCK;
  block.fill(0);
  for (let i = 0; i < n; i++) block[i] = bytes[i];
  block[n] = 0x80;
  block[56] = (n << 3) & 0xff;
  block[57] = n >>> 5;
  for (let i = 0; i < 16; i++) {
    const j = i << 2;
    M[i] = block[j] | (block[j + 1] << 8) | (block[j + 2] << 16) | (block[j + 3] << 24);
  }
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const s = S[((i >> 4) << 2) | (i & 3)];
    const sum = (a + f + K[i] + M[g]) | 0;
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
  }
  out.w0 = bswap((a + 0x67452301) | 0);
  out.w1 = bswap((b + 0xefcdab89) | 0);
  out.w2 = bswap((c + 0x98badcfe) | 0);
  out.w3 = bswap((d + 0x10325476) | 0);
}
