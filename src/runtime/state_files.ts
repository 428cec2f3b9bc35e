/**
 * Small files that hold a run's state on disk: an atomic replace (temporary
 * file, fsync, rename, fsync of the directory) and a lock file holding the
 * owner's PID. Used by the command line's checkpoints and spool; never by the
 * core.
 * @module
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import process from "node:process";

/**
 * Replaces `path` with `text` so a crash leaves either the old or the new
 * content, never a mix: written to `path.tmp`, flushed, renamed over `path`,
 * then the directory is flushed so the rename itself survives a power cut.
 * Throws the file system's error (ENOSPC, EACCES...).
 */
export function replaceFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    const bytes = new TextEncoder().encode(text);
    let pos = 0;
    while (pos < bytes.length) pos += writeSync(fd, bytes, pos, bytes.length - pos);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDirectory(dirname(path));
}

/** Flushes a directory's entries (creations, renames, deletions); ignored where unsupported. */
export function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms cannot open or fsync a directory; the rename still happened.
  }
}

/** Another live process holds the lock. */
export class LockedError extends Error {
  override name = "LockedError";
  /** The PID in the lock file. */
  readonly pid: number;
  constructor(message: string, pid: number) {
    super(message);
    this.pid = pid;
  }
}

/** A held lock; {@link release} removes the file. */
export interface HeldLock {
  /** The lock file. */
  readonly path: string;
  /** PID of a dead owner whose stale lock was taken over, if any. */
  readonly staleFrom?: number;
  /** Removes the lock file (only if it still holds our PID). Idempotent. */
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Takes the lock file `path` for this process: created exclusively with our
 * PID. A lock left by a process that no longer runs (SIGKILL, power cut) is
 * taken over; one held by a live process throws {@link LockedError}. The PID
 * check cannot see processes on other machines (a shared network disk).
 */
export function acquireLock(path: string): HeldLock {
  const me = process.pid;
  let staleFrom: number | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      try {
        writeSync(fd, new TextEncoder().encode(`${me}\n`));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        path,
        staleFrom,
        release() {
          if (released) return;
          released = true;
          try {
            if (readPid(path) === me) unlinkSync(path);
          } catch {
            // Already gone.
          }
        },
      };
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    const pid = readPid(path);
    if (pid !== undefined && pid !== me && alive(pid)) {
      throw new LockedError(`it is locked by process ${pid} (lock file ${path})`, pid);
    }
    // Stale (or unreadable, or ours from an earlier run in this process): take it over.
    staleFrom = pid;
    try {
      unlinkSync(path);
    } catch {
      // Another process may have removed it first; the exclusive create decides.
    }
  }
  throw new LockedError(`another process keeps taking the lock file ${path}`, 0);
}

function readPid(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
