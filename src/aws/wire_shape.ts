/**
 * Readers for decoded responses: typed field access that throws
 * {@link ShapeError} on a missing or mistyped member, so each operation can
 * build its camelCase output in one expression.
 * @module
 */
import { decodeBase64 } from "./base64.ts";
import type { WireObject } from "./wire_codec.ts";

/** A response member is missing or has the wrong type. */
export class ShapeError extends Error {}

// Numbers above 1e11 can only be epoch milliseconds (1e11 s is the year 5138):
// kinesis-mock's CBOR sends untagged milliseconds, JSON sends float seconds.
export function toDate(v: unknown): Date | undefined {
  if (v instanceof Date) return v;
  if (typeof v === "number" && Number.isFinite(v)) {
    return new Date(Math.abs(v) > 1e11 ? v : v * 1000);
  }
  return undefined;
}

export function optString(o: WireObject, key: string): string | undefined {
  const v = o[key];
  return typeof v === "string" ? v : undefined;
}

export function optNumber(o: WireObject, key: string): number | undefined {
  const v = o[key];
  return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
}

export function optObject(o: WireObject, key: string): WireObject | undefined {
  const v = o[key];
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
    ? v as WireObject
    : undefined;
}

export function reqString(o: WireObject, key: string): string {
  const v = optString(o, key);
  if (v === undefined) throw new ShapeError(`missing string ${key}`);
  return v;
}

export function reqObject(o: WireObject, key: string): WireObject {
  const v = optObject(o, key);
  if (v === undefined) throw new ShapeError(`missing object ${key}`);
  return v;
}

/** Record data: a CBOR byte string, or base64 text (JSON, and kinesis-mock's CBOR). */
export function reqData(r: WireObject, key: string): Uint8Array {
  const d = r[key];
  if (d instanceof Uint8Array) return d;
  if (typeof d === "string") {
    try {
      return decodeBase64(d);
    } catch {
      throw new ShapeError(`${key} is not base64`);
    }
  }
  throw new ShapeError(`missing ${key}`);
}

/** A list member (absent counts as empty); throws when present but not a list. */
export function optList(o: WireObject, key: string): unknown[] {
  const v = o[key] ?? [];
  if (!Array.isArray(v)) throw new ShapeError(`${key} is not a list`);
  return v;
}

/** A list element that must be an object. */
export function asObject(v: unknown, what: string): WireObject {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new ShapeError(`${what} is not an object`);
  }
  return v as WireObject;
}
