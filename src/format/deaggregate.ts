/**
 * Reads KPL aggregates back into user records, with KCL's semantics: input that
 * is not a valid aggregate (no magic, too short, MD5 mismatch, protobuf that
 * does not parse or lacks required fields) comes back unchanged as one record.
 *
 * The protobuf is read by the wire format as KCL's protobuf-java does: field
 * number 0, wire types 6 and 7, and broken groups are malformed; unknown fields
 * of every wire type (groups too) are skipped; a known field number with
 * another wire type is an unknown field. Fuzzed against the Python
 * `aws-kinesis-agg` parser in `tests/format/deaggregate_oracle_test.ts`.
 *
 * The reader checks every length against the bytes actually present, so a
 * hostile length field is an error, never an allocation or a hang.
 * @module
 */
import { AggregateFormatError } from "./errors.ts";
import { DIGEST_BYTES, MAGIC } from "./limits.ts";
import { md5 } from "./md5.ts";
import type { DeaggregatedRecord } from "./record.ts";

/** Options for {@link deaggregate}. */
export interface DeaggregateOptions {
  /**
   * Throw an {@link AggregateFormatError} when input has the magic but fails its
   * checksum or does not parse, instead of passing it through like KCL.
   * @default {false}
   */
  strict?: boolean;
}

const decoder = new TextDecoder();

class Malformed extends Error {}

// Protobuf limits, as protobuf-java (KCL) and upb (the Python deaggregator) enforce them.
const MAX_FIELD_NUMBER = 2 ** 29 - 1;
const MAX_GROUP_DEPTH = 100;

/**
 * A bounded protobuf reader over `buf[pos..end)`, following the wire format
 * as KCL's protobuf-java parser does: field number 0, wire types 6 and 7 and
 * an end-group tag without its start are invalid; unknown fields of every
 * wire type (groups included) are skipped; a known field number arriving with
 * another wire type is an unknown field (so a required field sent that way
 * is missing).
 */
class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  /** Wire type of the field last read by {@link nextField}. */
  type = 0;

  /** Reads a field key; returns its field number and keeps its wire type in {@link type}. */
  nextField(): number {
    const key = this.varint(false);
    if (key > 0xffffffff) throw new Malformed("field key over 32 bits");
    this.type = key % 8;
    const field = Math.floor(key / 8);
    if (field === 0) throw new Malformed("field number 0");
    if (field > MAX_FIELD_NUMBER) throw new Malformed(`field number ${field} over the maximum`);
    if (this.type === 6 || this.type === 7) {
      throw new Malformed(`invalid wire type ${this.type}`);
    }
    return field;
  }

  /**
   * Reads a varint of up to 10 bytes. With `exact`, a value past 2^53 is
   * refused (it cannot be an index or a length here); without, only its
   * encoding is checked (an unknown field's value is never used).
   */
  varint(exact = true): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Malformed("truncated varint");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (exact && !Number.isSafeInteger(result)) throw new Malformed("varint out of range");
        return result;
      }
      scale *= 128;
    }
    throw new Malformed("varint too long");
  }

  /** Returns the end of a length-delimited field and checks it fits. */
  lengthDelimitedEnd(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw new Malformed("length past end of message");
    return end;
  }

  bytes(): Uint8Array {
    const end = this.lengthDelimitedEnd();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  string(): string {
    return decoder.decode(this.bytes());
  }

  /** Skips the value of an unknown field `field` of wire type `wireType`. */
  skip(wireType: number, field: number, depth = 0): void {
    switch (wireType) {
      case 0:
        this.varint(false);
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.lengthDelimitedEnd();
        return;
      case 3:
        this.#skipGroup(field, depth + 1);
        return;
      case 4:
        throw new Malformed(`end of group ${field} without its start`);
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Malformed(`invalid wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new Malformed("fixed field past end of message");
  }

  /** Skips a group's fields up to the end-group tag of the same field number. */
  #skipGroup(field: number, depth: number): void {
    if (depth > MAX_GROUP_DEPTH) throw new Malformed("groups nested too deeply");
    for (;;) {
      if (this.pos >= this.end) throw new Malformed(`group ${field} without its end`);
      let inner: number;
      try {
        inner = this.nextField();
      } catch (error) {
        // Named apart: upb (the Python oracle) skips groups without this check; protobuf-java does not.
        if (error instanceof Malformed && error.message === "field number 0") {
          throw new Malformed(`field number 0 inside group ${field}`);
        }
        throw error;
      }
      const type = this.type;
      if (type === 4) {
        if (inner !== field) throw new Malformed(`group ${field} ended by group ${inner}`);
        return;
      }
      this.skip(type, inner, depth);
    }
  }
}

interface RawRecord {
  keyIndex: number;
  hashKeyIndex: number;
  data: Uint8Array;
}

function readTag(r: Reader, end: number): void {
  let hasKey = false;
  while (r.pos < end) {
    const field = r.nextField();
    const type = r.type;
    if (field === 1 && type === 2) {
      r.bytes();
      hasKey = true;
    } else r.skip(type, field);
  }
  if (r.pos !== end) throw new Malformed("tag overruns its length");
  if (!hasKey) throw new Malformed("tag without its required key");
}

function readRecord(r: Reader, end: number): RawRecord {
  let keyIndex = -1;
  let hashKeyIndex = -1;
  let data: Uint8Array | undefined;
  const inner = new Reader(r.buf, r.pos, end);
  while (inner.pos < end) {
    const field = inner.nextField();
    const type = inner.type;
    // Indices past 2^53 read inexactly, yet stay out of range: the check below refuses them.
    if (field === 1 && type === 0) {
      keyIndex = inner.varint(false);
    } else if (field === 2 && type === 0) {
      hashKeyIndex = inner.varint(false);
    } else if (field === 3 && type === 2) {
      data = inner.bytes();
    } else if (field === 4 && type === 2) {
      const tagEnd = inner.lengthDelimitedEnd();
      readTag(new Reader(inner.buf, inner.pos, tagEnd), tagEnd);
      inner.pos = tagEnd;
    } else inner.skip(type, field);
  }
  if (inner.pos !== end) throw new Malformed("record overruns its length");
  if (keyIndex < 0 || data === undefined) throw new Malformed("record without its required fields");
  r.pos = end;
  return { keyIndex, hashKeyIndex, data };
}

function parse(buf: Uint8Array, start: number, end: number): DeaggregatedRecord[] {
  const r = new Reader(buf, start, end);
  const keys: string[] = [];
  const hashKeys: string[] = [];
  const raw: RawRecord[] = [];
  while (r.pos < end) {
    const field = r.nextField();
    const type = r.type;
    if (field === 1 && type === 2) {
      keys.push(r.string());
    } else if (field === 2 && type === 2) {
      hashKeys.push(r.string());
    } else if (field === 3 && type === 2) {
      raw.push(readRecord(r, r.lengthDelimitedEnd()));
    } else r.skip(type, field);
  }
  if (r.pos !== end) throw new Malformed("field overruns the message");
  const out: DeaggregatedRecord[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const { keyIndex, hashKeyIndex, data } = raw[i];
    if (keyIndex >= keys.length) {
      throw new Malformed(`partition key index ${keyIndex} out of range`);
    }
    if (hashKeyIndex >= hashKeys.length) {
      throw new Malformed(`explicit hash key index ${hashKeyIndex} out of range`);
    }
    const record: DeaggregatedRecord = {
      data,
      partitionKey: keys[keyIndex],
      subSequenceNumber: i,
      aggregated: true,
    };
    if (hashKeyIndex >= 0) record.explicitHashKey = hashKeys[hashKeyIndex];
    out[i] = record;
  }
  return out;
}

/** True when `data` starts with the KPL magic. */
export function hasMagic(data: Uint8Array): boolean {
  return data.length >= MAGIC.length && data[0] === MAGIC[0] && data[1] === MAGIC[1] &&
    data[2] === MAGIC[2] && data[3] === MAGIC[3];
}

/**
 * Returns the user records inside a Kinesis record's data. Input that is not a
 * valid aggregate comes back as one record, unchanged, with `partitionKey`
 * (the outer record's key) and `aggregated: false`. Returned `data` views share
 * memory with the input.
 */
export function deaggregate(
  data: Uint8Array,
  partitionKey = "",
  options: DeaggregateOptions = {},
): DeaggregatedRecord[] {
  const passThrough =
    (): DeaggregatedRecord[] => [{ data, partitionKey, subSequenceNumber: 0, aggregated: false }];
  // KCL needs more than a digest's worth of bytes after the magic.
  if (!hasMagic(data) || data.length <= MAGIC.length + DIGEST_BYTES) return passThrough();
  const end = data.length - DIGEST_BYTES;
  const digest = md5(data.subarray(MAGIC.length, end));
  for (let i = 0; i < DIGEST_BYTES; i++) {
    if (digest[i] !== data[end + i]) {
      if (options.strict) {
        throw new AggregateFormatError(
          "ChecksumMismatch",
          "Cannot deaggregate: the MD5 checksum does not match",
        );
      }
      return passThrough();
    }
  }
  try {
    return parse(data, MAGIC.length, end);
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    if (options.strict) {
      throw new AggregateFormatError(
        "MalformedProtobuf",
        `Cannot deaggregate: malformed protobuf (${error.message})`,
      );
    }
    return passThrough();
  }
}
