/**
 * One log file followed by its open descriptor, `tail -F` style: reads from a
 * position, and tells whether the name still points at it (rename rotation),
 * whether it shrank (copy-truncate rotation), and who it is (device + inode +
 * a fingerprint of its first bytes, so a recycled inode is not taken for it).
 * @module
 */
import { createHash } from "node:crypto";
import { type FileHandle, open, stat } from "node:fs/promises";

/** Bytes hashed for a fingerprint: enough to tell log files apart by their first lines. */
export const FINGERPRINT_BYTES = 1024;

/** Who a file is. */
export interface FileIdentity {
  /** Device number. */
  dev: number;
  /** Inode number. */
  ino: number;
}

/** A fingerprint: SHA-256 (hex) of the first `bytes` bytes. */
export interface Fingerprint {
  /** How many leading bytes were hashed (less than {@link FINGERPRINT_BYTES} for a short file). */
  bytes: number;
  /** Hex SHA-256 of those bytes. */
  sha256: string;
}

/** What {@link FileTail.check} found about the file's name and size. */
export type TailState = "same" | "truncated" | "moved";

/** Key of an identity, for maps. */
export function identityKey(id: FileIdentity): string {
  return `${id.dev}:${id.ino}`;
}

/** The identity of the file now at `path`, or undefined when there is none. */
export async function identityAt(path: string): Promise<FileIdentity | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile()) return undefined;
    return { dev: s.dev, ino: s.ino };
  } catch {
    return undefined;
  }
}

/** An open file being read. */
export class FileTail {
  /** Where the name pointed when it was opened (updated when found under another name). */
  path: string;
  /** Device + inode. */
  readonly identity: FileIdentity;
  /** Next byte to read. */
  position: number;
  readonly #handle: FileHandle;

  private constructor(path: string, handle: FileHandle, identity: FileIdentity, position: number) {
    this.path = path;
    this.#handle = handle;
    this.identity = identity;
    this.position = position;
  }

  /** Opens `path` for reading from `position`. Throws the file system's error. */
  static async open(path: string, position = 0): Promise<FileTail> {
    const handle = await open(path, "r");
    try {
      const s = await handle.stat();
      if (s.isDirectory()) {
        throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR" });
      }
      return new FileTail(path, handle, { dev: s.dev, ino: s.ino }, position);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Current size of the open file (not of whatever the name points at now). */
  async size(): Promise<number> {
    return (await this.#handle.stat()).size;
  }

  /**
   * Reads up to `max` bytes from {@link position} into a fresh array (never
   * reused: lines are views into it) and advances. Null at the end of the file.
   */
  async read(max: number): Promise<Uint8Array | null> {
    const buf = new Uint8Array(max);
    const { bytesRead } = await this.#handle.read(buf, 0, max, this.position);
    if (bytesRead === 0) return null;
    this.position += bytesRead;
    return bytesRead === max ? buf : buf.subarray(0, bytesRead);
  }

  /** The fingerprint of the first bytes as they are now. */
  async fingerprint(bytes = FINGERPRINT_BYTES): Promise<Fingerprint> {
    const buf = new Uint8Array(bytes);
    let got = 0;
    while (got < bytes) {
      const { bytesRead } = await this.#handle.read(buf, got, bytes - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { bytes: got, sha256: createHash("sha256").update(buf.subarray(0, got)).digest("hex") };
  }

  /**
   * Whether the file shrank below what was read (`truncated`: copy-truncate),
   * or its name now points elsewhere or nowhere (`moved`: rename rotation or
   * deletion; the open descriptor still reads the old file to its end).
   */
  async check(): Promise<TailState> {
    if ((await this.size()) < this.position) return "truncated";
    const now = await identityAt(this.path);
    if (!now || now.dev !== this.identity.dev || now.ino !== this.identity.ino) return "moved";
    return "same";
  }

  /** Closes the descriptor. */
  close(): Promise<void> {
    return this.#handle.close().catch(() => {});
  }
}
