/**
 * A small CBOR (RFC 8949) codec for the Kinesis CBOR protocol
 * (`application/x-amz-cbor-1.1`): maps with text keys, text and byte strings,
 * integers, floats, booleans, null/undefined, arrays and tag-1 timestamps.
 *
 * The encoder sizes its output with an upper bound first and allocates once, so
 * a 1 MiB `Data` byte string is copied exactly once. The decoder is meant for
 * untrusted input: every length is checked against the bytes left before
 * anything is allocated, nesting is capped, and indefinite-length items (which
 * Jackson-based servers emit) are supported.
 * @module
 */
import { concatBytes } from "../runtime/bytes.ts";

/** Thrown when bytes are not valid CBOR, or hold something this codec refuses. */
export class CborError extends Error {
  /** Always `"CborError"`. */
  override readonly name = "CborError";
  /** Byte offset where decoding failed, when known. */
  readonly offset?: number;

  /** `offset` is appended to the message when given. */
  constructor(message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** Options for {@link decodeCbor}. */
export interface DecodeCborOptions {
  /**
   * Deepest nesting of arrays, maps and tags accepted.
   * @default {64}
   */
  maxDepth?: number;
}

// ---------------------------------------------------------------------------
// Encoding

const encoder = new TextEncoder();

// Upper bound of the encoded size; strings count 3 bytes per UTF-16 unit, the
// most UTF-8 can need for one.
function bound(value: unknown, depth: number): number {
  if (depth > 256) throw new CborError("Cannot encode CBOR: nesting deeper than 256");
  switch (typeof value) {
    case "string":
      return 9 + value.length * 3;
    case "number":
    case "bigint":
    case "boolean":
    case "undefined":
      return 9;
    case "object": {
      if (value === null) return 1;
      if (value instanceof Uint8Array) return 9 + value.length;
      if (value instanceof Date) return 10;
      if (Array.isArray(value)) {
        let n = 9;
        for (const item of value) n += bound(item, depth + 1);
        return n;
      }
      let n = 9;
      for (const key in value) {
        const v = (value as Record<string, unknown>)[key];
        if (v !== undefined) n += 9 + key.length * 3 + bound(v, depth + 1);
      }
      return n;
    }
    default:
      throw new CborError(`Cannot encode CBOR: unsupported type ${typeof value}`);
  }
}

class Writer {
  buf: Uint8Array<ArrayBuffer>;
  view: DataView;
  pos = 0;

  constructor(size: number, alloc?: (size: number) => Uint8Array<ArrayBuffer>) {
    this.buf = alloc ? alloc(size) : new Uint8Array(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  head(major: number, n: number): void {
    const m = major << 5;
    const buf = this.buf;
    if (n < 24) {
      buf[this.pos++] = m | n;
    } else if (n < 0x100) {
      buf[this.pos++] = m | 24;
      buf[this.pos++] = n;
    } else if (n < 0x10000) {
      buf[this.pos++] = m | 25;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else if (n < 0x100000000) {
      buf[this.pos++] = m | 26;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    } else {
      buf[this.pos++] = m | 27;
      this.view.setBigUint64(this.pos, BigInt(n));
      this.pos += 8;
    }
  }

  text(s: string): void {
    // Short ASCII keys dominate; encodeInto after a provisional head avoids a
    // temporary array. The head width is fixed from the bound, then patched.
    const max = s.length * 3;
    const start = this.pos;
    const headLen = max < 24 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    const { written } = encoder.encodeInto(s, this.buf.subarray(start + headLen));
    const real = written < 24 ? 1 : written < 0x100 ? 2 : written < 0x10000 ? 3 : 5;
    if (real !== headLen) {
      this.buf.copyWithin(start + real, start + headLen, start + headLen + written);
    }
    this.head(3, written);
    this.pos = start + real + written;
  }

  value(v: unknown): void {
    switch (typeof v) {
      case "string":
        return this.text(v);
      case "boolean":
        this.buf[this.pos++] = v ? 0xf5 : 0xf4;
        return;
      case "undefined":
        this.buf[this.pos++] = 0xf7;
        return;
      case "number":
        return this.number(v);
      case "bigint":
        if (v >= 0n && v < 1n << 64n) {
          this.buf[this.pos++] = 0x1b;
          this.view.setBigUint64(this.pos, v);
        } else if (v < 0n && v >= -(1n << 64n)) {
          this.buf[this.pos++] = 0x3b;
          this.view.setBigUint64(this.pos, -1n - v);
        } else {
          throw new CborError("Cannot encode CBOR: bigint outside 64 bits");
        }
        this.pos += 8;
        return;
    }
    if (v === null) {
      this.buf[this.pos++] = 0xf6;
    } else if (v instanceof Uint8Array) {
      this.head(2, v.length);
      this.buf.set(v, this.pos);
      this.pos += v.length;
    } else if (v instanceof Date) {
      // Tag 1 with epoch milliseconds as an integer: what the AWS Java SDK sends
      // for Kinesis (SdkCborGenerator), not RFC 8949's seconds.
      const ms = v.getTime();
      if (!Number.isFinite(ms)) throw new CborError("Cannot encode CBOR: invalid Date");
      this.head(6, 1);
      this.number(ms);
    } else if (Array.isArray(v)) {
      this.head(4, v.length);
      for (const item of v) this.value(item);
    } else {
      const obj = v as Record<string, unknown>;
      let count = 0;
      for (const key in obj) if (obj[key] !== undefined) count++;
      this.head(5, count);
      for (const key in obj) {
        const item = obj[key];
        if (item === undefined) continue;
        this.text(key);
        this.value(item);
      }
    }
  }

  number(n: number): void {
    if (Number.isInteger(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER) {
      if (n >= 0) this.head(0, n);
      else this.head(1, -1 - n);
      return;
    }
    // Non-integers (and NaN/Infinity): float32 when exact, else float64.
    if (Math.fround(n) === n || Number.isNaN(n)) {
      this.buf[this.pos++] = 0xfa;
      this.view.setFloat32(this.pos, n);
      this.pos += 4;
    } else {
      this.buf[this.pos++] = 0xfb;
      this.view.setFloat64(this.pos, n);
      this.pos += 8;
    }
  }
}

/**
 * Encodes `value` as CBOR. Plain objects become maps with text keys (members
 * that are `undefined` are skipped, as in JSON), `Uint8Array` a byte string,
 * `Date` tag 1 with epoch milliseconds, safe integers and `bigint` integers,
 * other numbers floats. `alloc`, when given, supplies the output buffer of at
 * least the bound's size (a reused one); the result is a view of it.
 *
 * @example Encode a PutRecord body
 * ```ts
 * import { encodeCbor } from "./cbor.ts";
 * const body = encodeCbor({ StreamName: "s1", PartitionKey: "k", Data: new Uint8Array([1, 2]) });
 * ```
 */
export function encodeCbor(
  value: unknown,
  alloc?: (size: number) => Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  const w = new Writer(bound(value, 0), alloc);
  w.value(value);
  return w.buf.subarray(0, w.pos);
}

// ---------------------------------------------------------------------------
// Decoding

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const BREAK = Symbol("break");

class Reader {
  pos = 0;
  readonly view: DataView;

  constructor(readonly buf: Uint8Array, readonly maxDepth: number) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(message: string, at = this.pos): never {
    throw new CborError(`Invalid CBOR: ${message}`, at);
  }

  need(n: number): void {
    if (n > this.buf.length - this.pos) {
      this.fail(`needs ${n} more bytes, ${this.buf.length - this.pos} left`);
    }
  }

  // Reads the argument of a head; returns -1 for "indefinite" (info 31).
  arg(info: number, start: number): number {
    if (info < 24) return info;
    switch (info) {
      case 24:
        this.need(1);
        return this.buf[this.pos++];
      case 25: {
        this.need(2);
        const v = this.view.getUint16(this.pos);
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = this.view.getUint32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = this.view.getBigUint64(this.pos);
        this.pos += 8;
        // Lengths and counts this large can never fit; integers are handled by the caller.
        return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
      }
      case 31:
        return -1;
      default:
        return this.fail(`reserved additional info ${info}`, start);
    }
  }

  bigArg(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  bytesOf(len: number, start: number): Uint8Array {
    if (len > this.buf.length - this.pos) {
      this.fail(`length ${len} exceeds the ${this.buf.length - this.pos} bytes left`, start);
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  // Concatenates the definite chunks of an indefinite-length string.
  chunks(major: number, start: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos];
      if (b === 0xff) {
        this.pos++;
        break;
      }
      if (b >> 5 !== major || (b & 31) === 31) {
        this.fail("bad chunk in indefinite-length string", this.pos);
      }
      this.pos++;
      const part = this.bytesOf(this.arg(b & 31, this.pos - 1), start);
      parts.push(part);
      total += part.length;
    }
    return concatBytes(parts, total);
  }

  text(bytes: Uint8Array, start: number): string {
    try {
      return decoder.decode(bytes);
    } catch {
      return this.fail("text string is not valid UTF-8", start);
    }
  }

  item(depth: number): unknown {
    const start = this.pos;
    this.need(1);
    const ib = this.buf[this.pos++];
    const major = ib >> 5;
    const info = ib & 31;
    switch (major) {
      case 0:
      case 1: {
        if (info === 31) this.fail("indefinite length on an integer", start);
        let n: number | bigint;
        if (info === 27) {
          const big = this.bigArg();
          n = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
        } else {
          n = this.arg(info, start);
        }
        if (major === 0) return n;
        // -1 - n stays exact for n < 2^53.
        return typeof n === "bigint" ? -1n - n : -1 - n;
      }
      case 2:
      case 3: {
        const len = this.arg(info, start);
        const bytes = len < 0 ? this.chunks(major, start) : this.bytesOf(len, start);
        if (major === 3) return this.text(bytes, start);
        // Copy byte strings so a decoded record does not pin the whole response.
        return len < 0 ? bytes : bytes.slice();
      }
      case 4: {
        if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`, start);
        const len = this.arg(info, start);
        if (len < 0) {
          const out: unknown[] = [];
          for (;;) {
            const v = this.itemOrBreak(depth + 1);
            if (v === BREAK) return out;
            out.push(v);
          }
        }
        // Every item takes at least one byte: refuse counts the buffer cannot hold.
        if (len > this.buf.length - this.pos) {
          this.fail(`array of ${len} items exceeds the bytes left`, start);
        }
        const out = new Array(len);
        for (let i = 0; i < len; i++) out[i] = this.item(depth + 1);
        return out;
      }
      case 5: {
        if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`, start);
        const len = this.arg(info, start);
        if (len >= 0 && len * 2 > this.buf.length - this.pos) {
          this.fail(`map of ${len} entries exceeds the bytes left`, start);
        }
        const out: Record<string, unknown> = {};
        for (let i = 0; len < 0 || i < len; i++) {
          const keyAt = this.pos;
          const key = len < 0 ? this.itemOrBreak(depth + 1) : this.item(depth + 1);
          if (key === BREAK) break;
          if (typeof key !== "string") this.fail("map key is not a text string", keyAt);
          const value = this.item(depth + 1);
          // A "__proto__" key must stay data, never reach the prototype setter.
          if (key === "__proto__") {
            Object.defineProperty(out, key, {
              value,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          } else {
            out[key] = value;
          }
        }
        return out;
      }
      case 6: {
        if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`, start);
        const tag = this.arg(info, start);
        if (tag < 0) this.fail("indefinite length on a tag", start);
        const inner = this.item(depth + 1);
        if (tag === 1) return epochToDate(inner, start, this);
        if ((tag === 2 || tag === 3) && inner instanceof Uint8Array) {
          let n = 0n;
          for (const b of inner) n = (n << 8n) | BigInt(b);
          return tag === 2 ? n : -1n - n;
        }
        // Other tags carry nothing Kinesis needs: keep the value, drop the tag.
        return inner;
      }
      default: {
        // Major 7: simple values and floats.
        switch (info) {
          case 20:
            return false;
          case 21:
            return true;
          case 22:
            return null;
          case 23:
            return undefined;
          case 25: {
            this.need(2);
            const v = halfToNumber(this.view.getUint16(this.pos));
            this.pos += 2;
            return v;
          }
          case 26: {
            this.need(4);
            const v = this.view.getFloat32(this.pos);
            this.pos += 4;
            return v;
          }
          case 27: {
            this.need(8);
            const v = this.view.getFloat64(this.pos);
            this.pos += 8;
            return v;
          }
          case 31:
            this.fail("unexpected break", start);
            break;
          default:
            this.fail(`unsupported simple value ${info}`, start);
        }
      }
    }
  }

  itemOrBreak(depth: number): unknown {
    this.need(1);
    if (this.buf[this.pos] === 0xff) {
      this.pos++;
      return BREAK;
    }
    return this.item(depth);
  }
}

// Kinesis sends tag 1 with epoch milliseconds as an integer (the Java SDK's
// convention); RFC 8949 says seconds. Integers above 1e11 cannot be seconds of any
// date before the year 5138, so they are read as milliseconds; smaller integers and
// floats as seconds.
function epochToDate(inner: unknown, start: number, r: Reader): Date {
  if (typeof inner !== "number" || !Number.isFinite(inner)) {
    r.fail("tag 1 without a finite number", start);
  }
  const ms = Number.isInteger(inner) && Math.abs(inner) > 1e11 ? inner : inner * 1000;
  return new Date(ms);
}

function halfToNumber(h: number): number {
  const exp = (h >> 10) & 31;
  const mant = h & 1023;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Decodes one CBOR item from `bytes`, which must hold exactly one item. Maps
 * become plain objects (text keys only), byte strings `Uint8Array` copies, tag 1
 * a `Date`, integers beyond 2^53 `bigint`. Throws {@link CborError} on malformed
 * or hostile input, without allocating more than the input could describe.
 *
 * @example Round trip
 * ```ts
 * import { decodeCbor, encodeCbor } from "./cbor.ts";
 * const out = decodeCbor(encodeCbor({ ShardId: "shardId-000000000000" }));
 * ```
 */
export function decodeCbor(bytes: Uint8Array, options: DecodeCborOptions = {}): unknown {
  const { maxDepth = 64 } = options;
  const r = new Reader(bytes, maxDepth);
  const value = r.item(0);
  if (r.pos !== bytes.length) r.fail(`${bytes.length - r.pos} trailing bytes`);
  return value;
}
