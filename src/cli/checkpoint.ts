/**
 * `--checkpoint FILE|DIR`: where each input file was read up to. For each file
 * it keeps its identity (device, inode, fingerprint of its first bytes) and
 * the offset below which every line is delivered or dead-lettered, so a
 * restart after SIGKILL re-sends only what was in flight. Saved atomically
 * (temporary file + rename) at a bounded rate; a lock file with our PID keeps
 * a second shipper off it.
 * @module
 */
import { existsSync, readFileSync, realpathSync, renameSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Fingerprint } from "../runtime/file_tail.ts";
import {
  acquireLock,
  type HeldLock,
  LockedError,
  replaceFileAtomic,
} from "../runtime/state_files.ts";
import { EnvironmentError } from "./errors.ts";

/** Format version written; another version is refused (or set aside with `--start-over`). */
export const CHECKPOINT_VERSION = 1;
const KIND = "kinesis-kpl-checkpoint";
/** The file's name inside a `--checkpoint` directory. */
export const CHECKPOINT_FILE_NAME = "checkpoint.json";

/** One input file's progress. */
export interface CheckpointEntry {
  /** Path it was last read under (a hint: identity decides). */
  path: string;
  /** Device number. */
  dev: number;
  /** Inode number. */
  ino: number;
  /** Fingerprint of the first bytes. */
  fingerprint: Fingerprint;
  /** Byte offset below which every line is settled. */
  offset: number;
}

/** Why a checkpoint cannot be used as it is. */
export class CheckpointError extends EnvironmentError {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

function validEntry(e: unknown): e is CheckpointEntry {
  const x = e as CheckpointEntry;
  return typeof x === "object" && x !== null && typeof x.path === "string" &&
    Number.isSafeInteger(x.dev) && Number.isSafeInteger(x.ino) &&
    Number.isSafeInteger(x.offset) && x.offset >= 0 &&
    typeof x.fingerprint === "object" && x.fingerprint !== null &&
    Number.isSafeInteger(x.fingerprint.bytes) && typeof x.fingerprint.sha256 === "string";
}

/** Parses a checkpoint file's text; throws a plain Error saying what is wrong. */
export function parseCheckpoint(text: string): CheckpointEntry[] {
  let value: { kind?: unknown; version?: unknown; files?: unknown };
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error("it is not valid JSON (a torn or foreign file)");
  }
  if (typeof value !== "object" || value === null || value.kind !== KIND) {
    throw new Error("it is not a checkpoint of this tool");
  }
  if (value.version !== CHECKPOINT_VERSION) {
    throw new Error(
      `it is version ${
        JSON.stringify(value.version)
      }; this shipper reads version ${CHECKPOINT_VERSION}`,
    );
  }
  if (!Array.isArray(value.files) || !value.files.every(validEntry)) {
    throw new Error("its file list is malformed");
  }
  return value.files;
}

/** An open checkpoint: loaded, locked, and saved on demand at a bounded rate. */
export class Checkpoint {
  /** The checkpoint file. */
  readonly path: string;
  /** Entries as loaded at start. */
  readonly loaded: CheckpointEntry[];
  readonly #lock: HeldLock;
  readonly #intervalMs: number;
  #lastText = "";
  #lastSaveAt = 0;
  #saves = 0;

  private constructor(path: string, loaded: CheckpointEntry[], lock: HeldLock, intervalMs: number) {
    this.path = path;
    this.loaded = loaded;
    this.#lock = lock;
    this.#intervalMs = intervalMs;
  }

  /**
   * Opens (or creates) the checkpoint at `target`: a file, or a directory that
   * holds `checkpoint.json`. Throws a {@link CheckpointError} when another
   * live process holds it, or when it is unreadable, corrupt or of another
   * version, unless `startOver`: then it is renamed aside (`.bad-<time>`),
   * `warn` says so, and reading starts from the beginning of every file.
   */
  static open(
    target: string,
    options: { startOver: boolean; intervalMs: number; warn: (text: string) => void },
  ): Checkpoint {
    let path = target;
    try {
      if (target.endsWith("/") || statSync(target).isDirectory()) {
        path = join(target, CHECKPOINT_FILE_NAME);
      }
    } catch {
      // Does not exist yet: a file.
    }
    // Symlinks resolved: two names of one checkpoint must meet at one lock.
    path = canonicalPath(path);
    let lock: HeldLock;
    try {
      lock = acquireLock(`${path}.lock`);
    } catch (error) {
      if (error instanceof LockedError) {
        throw new CheckpointError(
          `Cannot use checkpoint ${path}: ${error.message}; is another shipper running on it?`,
        );
      }
      throw new CheckpointError(`Cannot lock checkpoint ${path}: ${(error as Error).message}`);
    }
    if (lock.staleFrom !== undefined) {
      options.warn(
        `checkpoint ${path}: took over the lock of process ${lock.staleFrom}, which is gone`,
      );
    }
    let loaded: CheckpointEntry[] = [];
    if (existsSync(path)) {
      try {
        loaded = parseCheckpoint(readFileSync(path, "utf8"));
      } catch (error) {
        const why = (error as Error).message;
        if (!options.startOver) {
          lock.release();
          throw new CheckpointError(
            `Cannot use checkpoint ${path}: ${why}. Fix or remove it, or pass --start-over to set it aside and read every file from the start`,
          );
        }
        const aside = `${path}.bad-${Date.now()}`;
        renameSync(path, aside);
        options.warn(`checkpoint ${path}: ${why}; moved to ${aside}, reading from the start`);
      }
    }
    return new Checkpoint(path, loaded, lock, options.intervalMs);
  }

  /** Least ms between writes. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Times the file was written. */
  get saves(): number {
    return this.#saves;
  }

  /**
   * Saves `entries` if they changed and the interval has passed (or `force`).
   * Returns whether it wrote. Throws the file system's error.
   */
  save(entries: readonly CheckpointEntry[], force = false): boolean {
    const now = performance.now();
    if (!force && now - this.#lastSaveAt < this.#intervalMs) return false;
    const text = JSON.stringify({ kind: KIND, version: CHECKPOINT_VERSION, files: entries }) + "\n";
    if (text === this.#lastText) return false;
    replaceFileAtomic(this.path, text);
    this.#lastText = text;
    this.#lastSaveAt = now;
    this.#saves++;
    return true;
  }

  /** Releases the lock. */
  close(): void {
    this.#lock.release();
  }
}

/** `path` with symlinks resolved, also when only its directory exists yet. */
function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}
