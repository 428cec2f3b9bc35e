/**
 * The dead-letter file: one NDJSON line per record that finally failed, kept
 * exactly as it was read, with the reason. `--replay` reads the same lines.
 *
 * Line format (fields in this order):
 * - `reason`: `too-large`, `invalid`, `not-retryable`, `attempts-exhausted`,
 *   `deadline-exceeded`, `closed`, `interrupted` (a partial line cut by a
 *   signal), `bad-dead-letter` (a replayed line that was not a dead letter);
 * - `error`: the message;
 * - `data` (the record as a JSON string, when its bytes are valid UTF-8) or
 *   `data_b64` (standard base64, otherwise, and always for lines too long to
 *   hold in memory);
 * - `bytes`: the record's length.
 *
 * Writes are synchronous: the file is appended in the failure callback, so a
 * burst of failures never piles up in memory and a crash loses nothing written.
 * @module
 */
import { closeSync, existsSync, openSync, unlinkSync, writeSync } from "node:fs";
import { decodeBase64, encodeBase64 } from "../aws/base64.ts";

/** Why a record is in the dead-letter file. */
export type DeadLetterReason =
  | "too-large"
  | "invalid"
  | "not-retryable"
  | "attempts-exhausted"
  | "deadline-exceeded"
  | "closed"
  | "interrupted"
  | "bad-dead-letter";

/** One parsed dead-letter line. */
export interface DeadLetter {
  /** The record, byte for byte. */
  data: Uint8Array;
  /** Why it failed. */
  reason: string;
  /** The error message. */
  error: string;
}

const encoder = new TextEncoder();
// fatal: invalid UTF-8 must fall back to base64; ignoreBOM: a leading BOM is data.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Returns `bytes` as text when they are valid UTF-8 (round-trip exact), else `undefined`. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Formats one dead-letter line (with its `\n`).
 *
 * @example
 * ```ts
 * import { formatDeadLetter } from "./dead_letter.ts";
 * const line = formatDeadLetter(new TextEncoder().encode("hi"), "too-large", "too big");
 * console.log(line); // {"reason":"too-large","error":"too big","data":"hi","bytes":2}
 * ```
 */
export function formatDeadLetter(data: Uint8Array, reason: string, error: string): string {
  const text = utf8Text(data);
  const body = text === undefined
    ? `"data_b64":${JSON.stringify(encodeBase64(data))}`
    : `"data":${JSON.stringify(text)}`;
  return `{"reason":${JSON.stringify(reason)},"error":${
    JSON.stringify(error)
  },${body},"bytes":${data.length}}\n`;
}

/**
 * Parses one dead-letter line. Throws a `SyntaxError` naming what is wrong
 * when the line is not one.
 *
 * @example
 * ```ts
 * import { parseDeadLetter } from "./dead_letter.ts";
 * const r = parseDeadLetter('{"reason":"closed","error":"x","data_b64":"/w==","bytes":1}');
 * console.log(r.data); // Uint8Array(1) [ 255 ]
 * ```
 */
export function parseDeadLetter(line: string): DeadLetter {
  const value = JSON.parse(line) as Record<string, unknown>;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SyntaxError("not a JSON object");
  }
  let data: Uint8Array;
  if (typeof value.data === "string") data = encoder.encode(value.data);
  else if (typeof value.data_b64 === "string") data = decodeBase64(value.data_b64);
  else throw new SyntaxError('neither "data" nor "data_b64" is a string');
  if (typeof value.bytes === "number" && value.bytes !== data.length) {
    throw new SyntaxError(`"bytes" says ${value.bytes} but the data holds ${data.length}`);
  }
  return { data, reason: String(value.reason ?? ""), error: String(value.error ?? "") };
}

/**
 * Appends dead letters to a file. The file is opened at construction, so an
 * unwritable path is found before any input is read; it is removed again at
 * {@link close} if this run created it and wrote nothing.
 */
export class DeadLetterFile {
  /** The path, as given. */
  readonly path: string;
  #fd: number | undefined;
  #created: boolean;
  #count = 0;
  // Overlong line being streamed: base64 carry (0–2 bytes) and length.
  #carry = new Uint8Array(0);

  /** Opens `path` for appending; throws the `fs` error when it cannot. */
  constructor(path: string) {
    this.path = path;
    this.#created = !existsSync(path);
    this.#fd = openSync(path, "a");
  }

  /** Dead letters written by this run. */
  get count(): number {
    return this.#count;
  }

  /** Appends one record. */
  write(data: Uint8Array, reason: DeadLetterReason | string, error: string): void {
    this.#write(formatDeadLetter(data, reason, error));
    this.#count++;
  }

  /** Appends the next piece of a line that is already a dead letter (copied from a replayed file). */
  appendRaw(piece: Uint8Array): void {
    this.#writeBytes(piece);
  }

  /** Ends a line copied with {@link appendRaw}. */
  endRaw(): void {
    this.#write("\n");
    this.#count++;
  }

  /** Starts streaming an overlong record: then {@link streamPart}…, {@link streamEnd}. */
  streamStart(reason: DeadLetterReason, error: string): void {
    this.#write(
      `{"reason":${JSON.stringify(reason)},"error":${JSON.stringify(error)},"data_b64":"`,
    );
    this.#carry = new Uint8Array(0);
  }

  /** Appends the next bytes of the streamed record. */
  streamPart(bytes: Uint8Array): void {
    let data = bytes;
    if (this.#carry.length > 0) {
      data = new Uint8Array(this.#carry.length + bytes.length);
      data.set(this.#carry);
      data.set(bytes, this.#carry.length);
    }
    // Base64 in whole 3-byte groups, so the pieces concatenate into one valid string.
    const whole = data.length - (data.length % 3);
    if (whole > 0) this.#write(encodeBase64(data.subarray(0, whole)));
    this.#carry = data.slice(whole);
  }

  /** Ends the streamed record of `length` bytes. */
  streamEnd(length: number): void {
    if (this.#carry.length > 0) this.#write(encodeBase64(this.#carry));
    this.#carry = new Uint8Array(0);
    this.#write(`","bytes":${length}}\n`);
    this.#count++;
  }

  /** Closes the file; removes it when this run created it and wrote nothing. */
  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
    if (this.#created && this.#count === 0) {
      try {
        unlinkSync(this.path);
      } catch {
        // Someone else removed it; nothing to clean up.
      }
    }
  }

  #write(text: string): void {
    this.#writeBytes(encoder.encode(text));
  }

  #writeBytes(bytes: Uint8Array): void {
    if (this.#fd === undefined) throw new Error(`Cannot write to ${this.path}: it is closed`);
    let pos = 0;
    while (pos < bytes.length) pos += writeSync(this.#fd, bytes, pos, bytes.length - pos);
  }
}
