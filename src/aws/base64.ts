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
const ENCODE = new Uint8Array(64);
for (let i = 0; i < 64; i++) ENCODE[i] = ALPHABET.charCodeAt(i);

// 255 marks "not a base64 character"; every byte ≥ 0x80 (non-ASCII) is one.
const DECODE = new Uint8Array(256).fill(255);
for (let i = 0; i < 64; i++) DECODE[ENCODE[i]] = i;

// Bytes in, bytes out, one TextDecoder/TextEncoder call at the edge: building the
// string from per-character pieces measured ~60 ms per MiB here, this ~3 ms.
const asciiDecoder = new TextDecoder();
const asciiEncoder = new TextEncoder();

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

/** Length of the padded base64 text of `n` bytes. */
export function base64Length(n: number): number {
  return ((n + 2) / 3 | 0) * 4;
}

/**
 * Writes the padded base64 of `bytes` into `out` at `offset`, as ASCII bytes,
 * and returns the offset after it: for request bodies built in one buffer,
 * with no intermediate string.
 */
export function encodeBase64Into(bytes: Uint8Array, out: Uint8Array, offset: number): number {
  const n = bytes.length;
  const full = n - (n % 3);
  let o = offset;
  for (let i = 0; i < full; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o] = ENCODE[v >> 18];
    out[o + 1] = ENCODE[(v >> 12) & 63];
    out[o + 2] = ENCODE[(v >> 6) & 63];
    out[o + 3] = ENCODE[v & 63];
    o += 4;
  }
  const rest = n - full;
  if (rest > 0) {
    const v = (bytes[full] << 16) | (rest === 2 ? bytes[full + 1] << 8 : 0);
    out[o] = ENCODE[v >> 18];
    out[o + 1] = ENCODE[(v >> 12) & 63];
    out[o + 2] = rest === 2 ? ENCODE[(v >> 6) & 63] : 61;
    out[o + 3] = 61;
    o += 4;
  }
  return o;
}

/** Encodes bytes as standard, padded base64 with the portable table loop. */
export function encodeBase64Portable(bytes: Uint8Array): string {
  const out = new Uint8Array(base64Length(bytes.length));
  encodeBase64Into(bytes, out, 0);
  return asciiDecoder.decode(out);
}

/**
 * Decodes standard base64 (padding optional, ASCII whitespace ignored) with the
 * portable table loop. Throws `SyntaxError` on any other character or a bad length.
 */
export function decodeBase64Portable(text: string): Uint8Array {
  let src = asciiEncoder.encode(text);
  // Drop ASCII whitespace (tab, LF, FF, CR, space) in place.
  let w = 0;
  for (let r = 0; r < src.length; r++) {
    const c = src[r];
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9 && c !== 12) src[w++] = c;
  }
  src = src.subarray(0, w);
  let len = w;
  if (len > 0 && src[len - 1] === 61) len--;
  if (len > 0 && src[len - 1] === 61) len--;
  if (len % 4 === 1 || (len !== w && w % 4 !== 0)) {
    throw new SyntaxError("Cannot decode base64: invalid length");
  }
  const out = new Uint8Array((len * 3) >> 2);
  let o = 0;
  let i = 0;
  const full = len - (len % 4);
  for (; i < full; i += 4) {
    const a = DECODE[src[i]],
      b = DECODE[src[i + 1]],
      c = DECODE[src[i + 2]],
      d = DECODE[src[i + 3]];
    if ((a | b | c | d) > 63) throw new SyntaxError("Cannot decode base64: invalid character");
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o] = v >> 16;
    out[o + 1] = (v >> 8) & 255;
    out[o + 2] = v & 255;
    o += 3;
  }
  const rest = len - full;
  if (rest > 0) {
    let v = 0;
    for (let k = 0; k < rest; k++) {
      const x = DECODE[src[i + k]];
      if (x > 63) throw new SyntaxError("Cannot decode base64: invalid character");
      v = (v << 6) | x;
    }
    if (rest === 2) {
      out[o] = v >> 4;
    } else {
      out[o] = v >> 10;
      out[o + 1] = (v >> 2) & 255;
    }
  }
  return out;
}

/** Encodes bytes as standard, padded base64, with the fastest backend available. */
export function encodeBase64(bytes: Uint8Array): string {
  if (nativeTo) return nativeTo.call(bytes);
  if (NodeBuffer) {
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  }
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
    const compact = text.replace(/[\t\n\f\r ]+/g, "");
    const data = compact.replace(/=+$/, "").length;
    if (data % 4 === 1 || (data !== compact.length && compact.length % 4 !== 0)) {
      throw new SyntaxError("Cannot decode base64: invalid length");
    }
    const b = NodeBuffer.from(text, "base64");
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  return decodeBase64Portable(text);
}
