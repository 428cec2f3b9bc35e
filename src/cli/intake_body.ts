/**
 * Reads one `--listen` request body into records, enforcing the limits while
 * it reads and inflates, before any record is shipped: a body over a limit or
 * invalid in any part ships nothing.
 *
 * - NDJSON: one record per line, exact bytes; every non-empty line must be
 *   JSON in valid UTF-8.
 * - A JSON array (first non-blank byte `[`): each element, re-serialized with
 *   `JSON.stringify`, is a record; the text must be valid UTF-8.
 * - `Content-Encoding: gzip` is inflated with a cap on its output.
 * @module
 */
import { gunzip } from "node:zlib";
import { concatBytes } from "../runtime/bytes.ts";

/** Per-request limits of the intake. */
export interface IntakeLimits {
  /**
   * Body bytes as received (compressed when gzip).
   * @default {8 MiB}
   */
  maxBodyBytes: number;
  /**
   * Body bytes after inflating gzip.
   * @default {64 MiB}
   */
  maxDecodedBytes: number;
  /**
   * Records (non-empty lines or array elements) in one body.
   * @default {100000}
   */
  maxRecords: number;
}

/** The defaults: Fluent Bit's chunks are about 2 MiB, Fluentd's 8 MiB. */
export const DEFAULT_INTAKE_LIMITS: Readonly<IntakeLimits> = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxDecodedBytes: 64 * 1024 * 1024,
  maxRecords: 100_000,
};

/** A body refused with an HTTP status (400, 413, 415) and a short reason. */
export class IntakeRejection extends Error {
  /** The HTTP status to answer. */
  readonly status: number;
  /** `status`: 400 (invalid), 413 (over a limit) or 415 (unsupported encoding). */
  constructor(status: number, message: string) {
    super(message);
    this.name = "IntakeRejection";
    this.status = status;
  }
}

/** A body read whole: its records and the lines it skipped as empty. */
export interface IntakeBody {
  /** Records, in order. */
  records: Uint8Array[];
  /** Empty NDJSON lines (skipped). */
  empty: number;
  /** Bytes received. */
  received: number;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Reads `body` (chunks as received) under `limits`. `encoding` is the
 * `Content-Encoding` (lower case). Throws an {@link IntakeRejection}.
 */
export async function readIntakeBody(
  body: AsyncIterable<Uint8Array>,
  encoding: string,
  limits: IntakeLimits,
): Promise<IntakeBody> {
  if (encoding !== "identity" && encoding !== "gzip") {
    throw new IntakeRejection(415, `unsupported content-encoding ${encoding}`);
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of body) {
    received += chunk.length;
    if (received > limits.maxBodyBytes) {
      throw new IntakeRejection(413, `body over ${limits.maxBodyBytes} bytes`);
    }
    chunks.push(chunk);
  }
  let bytes: Uint8Array = concatBytes(chunks, received);
  if (encoding === "gzip") bytes = await inflate(bytes, limits.maxDecodedBytes);
  else if (bytes.length > limits.maxDecodedBytes) {
    throw new IntakeRejection(413, `body over ${limits.maxDecodedBytes} bytes`);
  }
  const first = bytes.findIndex((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  const parsed = first >= 0 && bytes[first] === 0x5b
    ? { records: arrayRecords(bytes, first, limits.maxRecords), empty: 0 }
    : ndjsonRecords(bytes, limits.maxRecords);
  return { ...parsed, received };
}

/** Inflates gzip, stopping as soon as the output passes `max` (zlib's own cap, checked per block). */
function inflate(bytes: Uint8Array, max: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // One byte over the cap tells "exactly at the limit" from "over it".
    gunzip(bytes, { maxOutputLength: max + 1 }, (error, out) => {
      if (error) {
        const code = (error as { code?: string }).code;
        if (code === "ERR_BUFFER_TOO_LARGE") {
          reject(new IntakeRejection(413, `body over ${max} bytes after gzip decoding`));
        } else reject(new IntakeRejection(400, "invalid gzip body"));
        return;
      }
      if (out.length > max) {
        reject(new IntakeRejection(413, `body over ${max} bytes after gzip decoding`));
      } else resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    });
  });
}

function tooMany(max: number): IntakeRejection {
  return new IntakeRejection(413, `body over ${max} records`);
}

/** Counts records first (a newline scan), so a body of millions of lines is refused before parsing. */
function ndjsonRecords(bytes: Uint8Array, max: number): { records: Uint8Array[]; empty: number } {
  const lines: Uint8Array[] = [];
  let empty = 0;
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const line = bytes.subarray(start, end);
    if (line.length === 0 || (line.length === 1 && line[0] === 0x0d)) empty++;
    else {
      lines.push(line);
      if (lines.length > max) throw tooMany(max);
    }
    start = end + 1;
  }
  for (let i = 0; i < lines.length; i++) {
    try {
      JSON.parse(strictUtf8.decode(lines[i]));
    } catch (error) {
      throw new IntakeRejection(
        400,
        `line ${i + 1} is not ${
          error instanceof TypeError ? "valid UTF-8" : "JSON"
        }: send NDJSON or a JSON array`,
      );
    }
  }
  return { records: lines, empty };
}

/**
 * Splits a JSON array at its top-level commas with a byte scan (strings and
 * nesting tracked), then parses element by element: the element count is
 * known before anything is parsed, and no giant array is ever built.
 */
function arrayRecords(bytes: Uint8Array, open: number, max: number): Uint8Array[] {
  const bounds: number[] = [open + 1];
  let depth = 0;
  let inString = false;
  let close = -1;
  for (let i = open + 1; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
      continue;
    }
    if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) depth++;
    else if (b === 0x5d || b === 0x7d) {
      if (depth === 0) {
        close = i;
        break;
      }
      depth--;
    } else if (b === 0x2c && depth === 0) {
      bounds.push(i + 1);
      if (bounds.length > max) throw tooMany(max);
    }
  }
  const invalid = (why: string) =>
    new IntakeRejection(400, `body is not a valid JSON array: ${why}`);
  if (close < 0) throw invalid("no closing ]");
  for (let i = close + 1; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) throw invalid("text after the ]");
  }
  bounds.push(close + 1);
  const records: Uint8Array[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    let text: string;
    try {
      text = strictUtf8.decode(bytes.subarray(bounds[k], bounds[k + 1] - 1));
    } catch {
      throw invalid(`element ${k + 1} is not valid UTF-8`);
    }
    // `[]` and `[ ]`: one blank slot, no element.
    if (bounds.length === 2 && text.trim() === "") break;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw invalid(`element ${k + 1} is not JSON`);
    }
    records.push(encoder.encode(JSON.stringify(value)));
  }
  return records;
}
