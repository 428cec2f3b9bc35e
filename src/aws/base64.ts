/**
 * Base64 for `Uint8Array`, on the hot path of JSON PutRecord (a 1 MiB aggregate
 * becomes a 1.4 MB string).
 *
 * Order of preference: the native `Uint8Array.prototype.toBase64` /
 * `Uint8Array.fromBase64` (Deno 2, Bun, recent V8), then Node's global `Buffer`
 * (Node 20 has no `toBase64`; `Buffer` is a global there, so no import), then a
 * table-driven loop that runs anywhere (Workers without the native methods).
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Pairs of alphabet characters per 12-bit value: one lookup per 12 bits halves
// the table lookups of the plain 6-bit loop.
let pairTable: string[] | undefined;
function pairs(): string[] {
  if (!pairTable) {
    pairTable = new Array(4096);
    for (let i = 0; i < 4096; i++) pairTable[i] = ALPHABET[i >> 6] + ALPHABET[i & 63];
  }
  return pairTable;
}

// 255 marks "not a base64 character".
const DECODE = new Uint8Array(256).fill(255);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

interface NativeBase64 {
  toBase64?: (this: Uint8Array) => string;
}
interface NativeBase64Ctor {
  fromBase64?: (s: string) => Uint8Array;
}
interface BufferLike {
  from(data: ArrayBufferLike, offset: number, length: number): { toString(enc: string): string };
  from(data: string, enc: string): Uint8Array;
}

const nativeTo = (Uint8Array.prototype as NativeBase64).toBase64;
const nativeFrom = (Uint8Array as unknown as NativeBase64Ctor).fromBase64;
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

/** Encodes bytes as standard, padded base64 with the portable table loop. */
export function encodeBase64Portable(bytes: Uint8Array): string {
  const table = pairs();
  const n = bytes.length;
  const full = n - (n % 3);
  // Chunks of strings joined once: string += in a loop is fine in V8 but
  // an array join bounds the rope depth for 1 MiB inputs.
  const chunks: string[] = [];
  let chunk = "";
  let i = 0;
  while (i < full) {
    const end = Math.min(full, i + 3 * 8192);
    for (; i < end; i += 3) {
      const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      chunk += table[v >> 12] + table[v & 4095];
    }
    chunks.push(chunk);
    chunk = "";
  }
  const rest = n - full;
  if (rest === 1) {
    const v = bytes[full] << 16;
    chunks.push(table[v >> 12] + "==");
  } else if (rest === 2) {
    const v = (bytes[full] << 16) | (bytes[full + 1] << 8);
    chunks.push(table[v >> 12] + ALPHABET[(v >> 6) & 63] + "=");
  }
  return chunks.join("");
}

/**
 * Decodes standard base64 (padding optional, ASCII whitespace ignored) with the
 * portable table loop. Throws `SyntaxError` on any other character or a bad length.
 */
export function decodeBase64Portable(text: string): Uint8Array {
  let s = text;
  if (/[\t\n\f\r ]/.test(s)) s = s.replace(/[\t\n\f\r ]+/g, "");
  let len = s.length;
  if (len > 0 && s.charCodeAt(len - 1) === 61) len--;
  if (len > 0 && s.charCodeAt(len - 1) === 61) len--;
  if (len % 4 === 1 || (len !== s.length && s.length % 4 !== 0)) {
    throw new SyntaxError("Cannot decode base64: invalid length");
  }
  const out = new Uint8Array((len * 3) >> 2);
  let o = 0;
  let i = 0;
  const full = len - (len % 4);
  for (; i < full; i += 4) {
    const a = DECODE[s.charCodeAt(i) & 255] | ((s.charCodeAt(i) >> 8) === 0 ? 0 : 255);
    const b = DECODE[s.charCodeAt(i + 1) & 255] | ((s.charCodeAt(i + 1) >> 8) === 0 ? 0 : 255);
    const c = DECODE[s.charCodeAt(i + 2) & 255] | ((s.charCodeAt(i + 2) >> 8) === 0 ? 0 : 255);
    const d = DECODE[s.charCodeAt(i + 3) & 255] | ((s.charCodeAt(i + 3) >> 8) === 0 ? 0 : 255);
    if ((a | b | c | d) > 63) throw new SyntaxError("Cannot decode base64: invalid character");
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 255;
    out[o++] = v & 255;
  }
  const rest = len - full;
  if (rest > 0) {
    let v = 0;
    for (let k = 0; k < rest; k++) {
      const code = s.charCodeAt(i + k);
      const x = code > 255 ? 255 : DECODE[code];
      if (x > 63) throw new SyntaxError("Cannot decode base64: invalid character");
      v = (v << 6) | x;
    }
    if (rest === 2) {
      out[o++] = v >> 4;
    } else {
      out[o++] = v >> 10;
      out[o++] = (v >> 2) & 255;
    }
  }
  return out;
}

/** Encodes bytes as standard, padded base64, with the fastest backend available. */
export function encodeBase64(bytes: Uint8Array): string {
  if (nativeTo) return nativeTo.call(bytes);
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  return encodeBase64Portable(bytes);
}

/**
 * Decodes standard base64 with the fastest backend available. Throws `SyntaxError`
 * on malformed input (Node's `Buffer` is lenient, so that path validates first).
 */
export function decodeBase64(text: string): Uint8Array {
  if (nativeFrom) return nativeFrom(text);
  if (NodeBuffer) {
    if (!/^[A-Za-z0-9+/\t\n\f\r ]*={0,2}[\t\n\f\r ]*$/.test(text)) {
      throw new SyntaxError("Cannot decode base64: invalid character");
    }
    const b = NodeBuffer.from(text, "base64");
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  return decodeBase64Portable(text);
}
