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
 * - `fragment: true` on a line that a signal cut before its newline
 *   (`interrupted`): `--replay` skips those unless told to send them.
 *
 * Writes are synchronous: the file is appended in the failure callback, so a
 * burst of failures never piles up in memory and a crash loses nothing written.
 * A record counts as reported only once its whole line is written: a write
 * that fails (disk full, I/O error) cuts the partial line off again, and the
 * record is counted as lost instead ({@link DeadLetterFile.lost}).
 * @module
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  unlinkSync,
  writeSync,
} from "node:fs";
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
  /** True for a line cut by a signal before its end: not known to be a whole record. */
  fragment: boolean;
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
export function formatDeadLetter(
  data: Uint8Array,
  reason: string,
  error: string,
  fragment = false,
): string {
  const text = utf8Text(data);
  const body = text === undefined
    ? `"data_b64":${JSON.stringify(encodeBase64(data))}`
    : `"data":${JSON.stringify(text)}`;
  return `{"reason":${JSON.stringify(reason)},"error":${
    JSON.stringify(error)
  },${body},"bytes":${data.length}${fragment ? ',"fragment":true' : ""}}\n`;
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
  return {
    data,
    reason: String(value.reason ?? ""),
    error: String(value.error ?? ""),
    // Lines written before fragments were marked: `interrupted` was only ever a cut line.
    fragment: value.fragment === true || value.reason === "interrupted",
  };
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
  #lost = 0;
  #lastError: string | undefined;
  // Offset where the line being written starts, to cut a partial line off after a failed write.
  #end: number;
  // Offset after the last byte written.
  #pos: number;
  // Set when a piece of the line being streamed failed: the rest of that line is not written.
  #broken = false;
  // Overlong line being streamed: base64 carry (0–2 bytes) and length.
  #carry = new Uint8Array(0);

  /**
   * Opens `path` for appending; throws the `fs` error when it cannot. `writer`
   * replaces `writeSync` (tests inject a disk that fills up).
   */
  constructor(
    path: string,
    readonly writer: (fd: number, bytes: Uint8Array, offset: number, length: number) => number =
      writeSync,
  ) {
    this.path = path;
    this.#created = !existsSync(path);
    this.#fd = openSync(path, "a");
    this.#end = fstatSync(this.#fd).size;
    this.#pos = this.#end;
  }

  /** Dead letters written whole by this run. */
  get count(): number {
    return this.#count;
  }

  /** Records whose line could not be written: neither delivered nor reported in the file. */
  get lost(): number {
    return this.#lost;
  }

  /** Why the last write failed, for the run's error line (`undefined` when none failed). */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /**
   * Appends one record. Returns true once its whole line is written, false
   * when the write failed (the record is then counted in {@link lost}).
   * `fragment` marks a line cut before its end (see the module doc).
   */
  write(
    data: Uint8Array,
    reason: DeadLetterReason | string,
    error: string,
    fragment = false,
  ): boolean {
    this.#broken = false;
    this.#write(formatDeadLetter(data, reason, error, fragment));
    return this.#endLine();
  }

  /** Appends the next piece of a line that is already a dead letter (copied from a replayed file). */
  appendRaw(piece: Uint8Array): void {
    this.#writeBytes(piece);
  }

  /** Ends a line copied with {@link appendRaw}; false when it could not be written whole. */
  endRaw(): boolean {
    this.#write("\n");
    return this.#endLine();
  }

  /** Starts streaming an overlong record: then {@link streamPart}…, {@link streamEnd}. */
  streamStart(reason: DeadLetterReason, error: string): void {
    this.#broken = false;
    this.#write(
      `{"reason":${JSON.stringify(reason)},"error":${JSON.stringify(error)},"data_b64":"`,
    );
    this.#carry = new Uint8Array(0);
  }

  /** Appends the next bytes of the streamed record. */
  streamPart(bytes: Uint8Array): void {
    if (this.#broken) return;
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

  /** Ends the streamed record of `length` bytes; false when it could not be written whole. */
  streamEnd(length: number): boolean {
    if (this.#carry.length > 0) this.#write(encodeBase64(this.#carry));
    this.#carry = new Uint8Array(0);
    this.#write(`","bytes":${length}}\n`);
    return this.#endLine();
  }

  /**
   * Flushes to disk and closes; removes the file when this run created it and
   * wrote nothing. A failed flush counts every line of this run as lost: the
   * kernel may have dropped any of them.
   */
  close(): void {
    if (this.#fd === undefined) return;
    if (this.#count > 0) {
      try {
        fsyncSync(this.#fd);
      } catch (error) {
        // EINVAL: a character device or pipe (no disk behind it), nothing to flush.
        const code = (error as { code?: string }).code;
        if (code !== "EINVAL" && code !== "ENOTSUP" && code !== "EROFS") {
          this.#lastError = describe(error);
          this.#lost += this.#count;
          this.#count = 0;
        }
      }
    }
    closeSync(this.#fd);
    this.#fd = undefined;
    if (this.#created && this.#count === 0 && this.#lost === 0) {
      try {
        unlinkSync(this.path);
      } catch {
        // Someone else removed it; nothing to clean up.
      }
    }
  }

  /** Closes the line being written: counts it, or cuts its partial bytes off and counts it lost. */
  #endLine(): boolean {
    if (!this.#broken && this.#fd !== undefined) {
      this.#count++;
      this.#end = this.#pos;
      return true;
    }
    this.#broken = false;
    this.#lost++;
    // Always cut back: Deno's writeSync can write part of a buffer and then throw ENOSPC
    // without saying how much went out (seen on a full tmpfs), so #pos may undercount.
    if (this.#fd !== undefined) {
      try {
        ftruncateSync(this.#fd, this.#end);
      } catch {
        // Not a regular file (a pipe, /dev/full): nothing to cut.
      }
    }
    this.#pos = this.#end;
    return false;
  }

  #write(text: string): void {
    this.#writeBytes(encoder.encode(text));
  }

  #writeBytes(bytes: Uint8Array): void {
    if (this.#broken) return;
    if (this.#fd === undefined) {
      this.#fail("it is closed");
      return;
    }
    let pos = 0;
    try {
      while (pos < bytes.length) {
        pos += this.writer(this.#fd, bytes, pos, bytes.length - pos);
      }
    } catch (error) {
      this.#fail(describe(error));
    } finally {
      this.#pos += pos;
    }
  }

  #fail(why: string): void {
    this.#broken = true;
    this.#lastError = `Cannot write the dead-letter file ${this.path}: ${why}`;
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: string })?.code;
  if (code === "ENOSPC") return "no space left on the device";
  if (code === "EDQUOT") return "disk quota exceeded";
  if (code === "EIO") return "I/O error";
  // Deno's message ends in "(os error N)": keep the first part only.
  return String((error as Error)?.message ?? error).replace(/ \(os error \d+\)$/, "");
}
