/**
 * File input with checkpoints and follow mode: each file is read through its
 * open descriptor from its checkpointed offset; with `--follow` it is kept open
 * and read as it grows, like `tail -F`:
 * - rename-and-create rotation: the old file is read to its end (and for
 *   `rotateWaitMs` after its last growth, for late writers) while the new
 *   file at the name is read from its start;
 * - copy-truncate rotation: a file that shrinks below what was read, or whose
 *   first bytes change, is read again from its start;
 * - glob patterns are expanded again on every poll, so new files are picked up;
 * - a last line without its newline is held until the newline comes, or until
 *   the file has been idle for `partialLineWaitMs`.
 *
 * Changes are found by polling (stat of the name, fstat of the descriptor, a
 * fingerprint of the first bytes) every `pollMs`; chokidar's watcher (fs.watch)
 * only wakes the poll early, since under Deno it reported a rename-and-create
 * as a plain change.
 * @module
 */
import { readdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { glob, isDynamicPattern } from "tinyglobby";
import {
  FileTail,
  type Fingerprint,
  FINGERPRINT_BYTES,
  identityAt,
  identityKey,
} from "../runtime/file_tail.ts";
import type { Checkpoint, CheckpointEntry } from "./checkpoint.ts";
import { CheckpointError } from "./checkpoint.ts";
import { InputError } from "./errors.ts";
import { READ_CHUNK_BYTES } from "./input.ts";
import { type LineEvent, LineSplitter } from "./lines.ts";
import { Watermark } from "./settlement.ts";
import type { Shipper } from "./shipper.ts";
import type { StopSwitch } from "./stop.ts";

/** Options for {@link FileInput}. */
export interface FileInputOptions {
  /** Paths or glob patterns. */
  patterns: readonly string[];
  /** Keep following (true) or read each file to its end once (false). */
  follow: boolean;
  /** Where progress is kept, if anywhere. */
  checkpoint?: Checkpoint;
  /** Forget checkpoint entries whose files are gone instead of stopping. */
  startOver: boolean;
  /** Poll period in ms. */
  pollMs: number;
  /** Idle ms before a last line without newline is shipped (follow mode). */
  partialLineWaitMs: number;
  /** Idle ms before a rotated-away file is closed (follow mode). */
  rotateWaitMs: number;
  /** Longest line shipped as a record; longer ones go to the dead-letter file. */
  maxLineBytes: number;
  /**
   * Most bytes of a file read past its settled offset: reading waits beyond
   * it, so a chunk stuck in retries cannot let the distance (what a restart
   * sends again) grow without bound while later chunks are delivered.
   */
  maxUnsettledBytes: number;
  /** Where records go. */
  shipper: Shipper;
  /** Stops reading when flipped. */
  stop: StopSwitch;
  /** One-line notices for stderr. */
  warn: (text: string) => void;
  /**
   * Files and directories this shipper writes (dead-letter file, checkpoint
   * with its lock and temporary files, spool): never read as input, so a
   * pattern such as `*` cannot feed the shipper its own dead letters.
   */
  ownPaths?: readonly string[];
}

/** One file being read. */
interface Tracked {
  tail: FileTail;
  splitter: LineSplitter;
  watermark: Watermark;
  fingerprint: Fingerprint;
  /** Offset where the line being collected starts. */
  lineStart: number;
  lastGrowth: number;
  /** The name no longer points at it. */
  moved: boolean;
  /** Closed at its end; kept until all its lines settle. */
  finished: boolean;
  /** Offset of its end once finished. */
  end: number;
}

/** Bytes read from one file before the others get a turn. */
const ROUND_BYTES = 4 * 1024 * 1024;

/** Reads the files; see the module doc. */
export class FileInput {
  readonly #o: FileInputOptions;
  readonly #tails = new Map<string, Tracked>();
  readonly #own: string[];
  readonly #skipped = new Set<string>();
  /** Entries of files this run does not read, kept as they were. */
  #carried: CheckpointEntry[] = [];
  #wake: (() => void) | undefined;

  constructor(options: FileInputOptions) {
    this.#o = options;
    this.#own = (options.ownPaths ?? []).map((p) => resolve(p));
  }

  /** True for a file the shipper writes itself, or one beside it (`.lock`, `.tmp`) or inside it. */
  #isOwn(path: string): boolean {
    return this.#own.some((own) =>
      path === own || path.startsWith(own + ".") || path.startsWith(own + "/")
    );
  }

  /**
   * Reads until every file is read (without follow) or the stop switch flips.
   * Throws an {@link InputError} for a named file that cannot be read, and a
   * {@link CheckpointError} for checkpointed files that are gone (unless
   * `startOver`). Returns false when stopped.
   */
  async run(): Promise<boolean> {
    const o = this.#o;
    await this.#start();
    o.stop.wait().then(() => this.#wake?.());
    const watcher = o.follow ? await this.#watch() : undefined;
    // Saves also while a put waits for room: settlements go on meanwhile.
    const every = Math.min(o.pollMs, o.checkpoint?.intervalMs ?? Infinity);
    const saver = setInterval(() => this.save(false), Math.max(20, every));
    try {
      for (;;) {
        if (o.stop.reason !== undefined) return false;
        let progressed = false;
        for (const t of [...this.#tails.values()]) {
          if (t.finished) continue;
          if (await this.#pump(t)) progressed = true;
          if (o.stop.reason !== undefined) return false;
        }
        if (o.follow) await this.#discover(false);
        this.#dropSettled();
        this.save(false);
        if (!o.follow && [...this.#tails.values()].every((t) => t.finished)) return true;
        if (!progressed) await this.#sleep();
      }
    } finally {
      clearInterval(saver);
      await watcher?.close();
      for (const t of this.#tails.values()) if (!t.finished) await t.tail.close();
    }
  }

  /**
   * Writes the checkpoint when it changed and the interval passed (`force`:
   * now). A failure to write is reported and retried on the next call.
   */
  save(force: boolean): void {
    const checkpoint = this.#o.checkpoint;
    if (!checkpoint) return;
    try {
      checkpoint.save(this.entries(), force);
    } catch (error) {
      this.#o.warn(`cannot write checkpoint ${checkpoint.path}: ${(error as Error).message}`);
    }
  }

  /** What the checkpoint holds now. */
  entries(): CheckpointEntry[] {
    const out = [...this.#carried];
    for (const t of this.#tails.values()) {
      out.push({
        path: t.tail.path,
        dev: t.tail.identity.dev,
        ino: t.tail.identity.ino,
        fingerprint: t.fingerprint,
        offset: t.watermark.offset,
      });
    }
    return out;
  }

  async #start(): Promise<void> {
    const o = this.#o;
    const entries = new Map<string, CheckpointEntry>();
    for (const e of o.checkpoint?.loaded ?? []) entries.set(identityKey(e), e);
    await this.#discover(true, entries);
    // Entries no file of this run claimed: carried over, finished under a new name, or gone.
    for (const [key, entry] of entries) {
      const here = await identityAt(entry.path);
      if (here && identityKey(here) === key) {
        this.#carried.push(entry);
        continue;
      }
      const renamed = await this.#findRotated(entry, key);
      if (renamed) {
        const t = await this.#open(renamed, entry);
        if (t) {
          t.moved = true;
          o.warn(`${entry.path} was rotated to ${renamed}: reading the rest of it first`);
          continue;
        }
      }
      const lost = `the checkpoint lists ${entry.path} (read up to byte ${entry.offset}), ` +
        "which is gone: lines written to it after that offset cannot be shipped";
      if (!o.startOver) {
        throw new CheckpointError(
          `Cannot resume: ${lost}. Pass --start-over to forget it and go on`,
        );
      }
      o.warn(`${lost}; forgotten (--start-over)`);
    }
  }

  /** Expands the patterns and opens files not yet tracked. */
  async #discover(initial: boolean, entries?: Map<string, CheckpointEntry>): Promise<void> {
    const o = this.#o;
    for (const pattern of o.patterns) {
      let paths: string[];
      if (isDynamicPattern(pattern)) {
        paths = (await glob(pattern, { absolute: true, onlyFiles: true })).sort();
        if (paths.length === 0 && initial) o.warn(`no file matches ${pattern} yet`);
      } else {
        paths = [resolve(pattern)];
      }
      for (const path of paths) {
        if (this.#isOwn(path)) {
          if (!this.#skipped.has(path)) {
            this.#skipped.add(path);
            o.warn(
              `not reading ${path}: the shipper writes it (dead letters, checkpoint or spool)`,
            );
          }
          continue;
        }
        const id = await identityAt(path);
        if (!id) {
          if (initial && !o.follow && !isDynamicPattern(pattern)) {
            throw new InputError(`Cannot read ${pattern}: no such file`);
          }
          if (initial && !isDynamicPattern(pattern)) o.warn(`${pattern} does not exist yet`);
          continue;
        }
        const key = identityKey(id);
        const known = this.#tails.get(key);
        if (known) {
          // Found under a name we read: it is a live file again (rotated into the pattern).
          if (known.tail.path !== path && known.moved) known.tail.path = path;
          known.moved = false;
          continue;
        }
        const entry = entries?.get(key);
        entries?.delete(key);
        await this.#open(path, entry);
      }
    }
  }

  /**
   * Where the checkpointed file went: a file beside it with its inode AND its
   * first bytes, never one the shipper writes. A freed inode is soon given to
   * a new file (the checkpoint's own lock, the dead-letter file): by inode
   * alone those were taken for the rotated file and shipped.
   */
  async #findRotated(entry: CheckpointEntry, key: string): Promise<string | undefined> {
    const path = await findByIdentity(dirname(entry.path), key, (p) => !this.#isOwn(p));
    if (!path) return undefined;
    let tail: FileTail;
    try {
      tail = await FileTail.open(path, 0);
    } catch {
      return undefined;
    }
    try {
      const now = await tail.fingerprint(entry.fingerprint.bytes);
      const same = now.bytes === entry.fingerprint.bytes && now.sha256 === entry.fingerprint.sha256;
      return same ? path : undefined;
    } finally {
      await tail.close();
    }
  }

  /** Opens `path`, resuming from `entry` when it is the same file. */
  async #open(path: string, entry?: CheckpointEntry): Promise<Tracked | undefined> {
    const o = this.#o;
    let tail: FileTail;
    try {
      tail = await FileTail.open(path, 0);
    } catch (error) {
      if (!o.follow) {
        throw new InputError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
      }
      o.warn(`cannot read ${path}: ${(error as Error).message}`);
      return undefined;
    }
    let start = 0;
    if (entry) {
      const now = await tail.fingerprint(entry.fingerprint.bytes);
      const size = await tail.size();
      if (now.bytes !== entry.fingerprint.bytes || now.sha256 !== entry.fingerprint.sha256) {
        o.warn(
          `${path}: same inode as in the checkpoint but other content: reading from the start`,
        );
      } else if (size < entry.offset) {
        o.warn(`${path}: shorter than its checkpoint (truncated): reading from the start`);
      } else {
        start = entry.offset;
      }
    }
    tail.position = start;
    const t: Tracked = {
      tail,
      splitter: new LineSplitter({ maxLineBytes: o.maxLineBytes }),
      watermark: new Watermark(start),
      fingerprint: await tail.fingerprint(),
      lineStart: start,
      lastGrowth: performance.now(),
      moved: false,
      finished: false,
      end: 0,
    };
    this.#tails.set(identityKey(tail.identity), t);
    return t;
  }

  /** Reads what is new in one file. Returns true when it read anything. */
  async #pump(t: Tracked): Promise<boolean> {
    const o = this.#o;
    if (o.follow) {
      const state = await t.tail.check();
      if (state === "truncated" || await this.#rewritten(t)) {
        await this.#endLine(t);
        o.warn(`${t.tail.path} was truncated: reading it from the start`);
        t.tail.position = 0;
        t.lineStart = 0;
        // Lines of the old content still in flight settle into the old watermark.
        t.watermark = new Watermark(0);
        t.fingerprint = await t.tail.fingerprint();
      } else if (state === "moved") t.moved = true;
    }
    let read = 0;
    for (;;) {
      const chunk = await o.stop.race(t.tail.read(READ_CHUNK_BYTES));
      if (chunk === undefined) return read > 0; // stopped
      if (chunk === null) break;
      read += chunk.length;
      o.shipper.counts.bytesRead += chunk.length;
      // FileTail reads into fresh arrays: each is freed once its lines settle.
      o.shipper.readChunks.read(chunk, t.splitter);
      for (const e of t.splitter.feed(chunk)) await this.#event(t, e, true);
      if (t.splitter.pendingBytes === 0) o.shipper.readChunks.fed(t.splitter);
      if (read >= ROUND_BYTES) break;
    }
    const now = performance.now();
    if (read > 0) {
      t.lastGrowth = now;
      if (t.fingerprint.bytes < FINGERPRINT_BYTES) t.fingerprint = await t.tail.fingerprint();
      return true;
    }
    const idle = now - t.lastGrowth;
    if (!o.follow || (t.moved && idle >= o.rotateWaitMs)) {
      await this.#endLine(t);
      await t.tail.close();
      t.finished = true;
      t.end = t.tail.position;
    } else if (t.splitter.pendingBytes > 0 && idle >= o.partialLineWaitMs) {
      await this.#endLine(t);
    }
    return false;
  }

  /** True when the first bytes changed while the size did not drop (truncated and rewritten). */
  async #rewritten(t: Tracked): Promise<boolean> {
    if (t.fingerprint.bytes === 0) return false;
    const now = await t.tail.fingerprint(t.fingerprint.bytes);
    return now.bytes < t.fingerprint.bytes || now.sha256 !== t.fingerprint.sha256;
  }

  /** Ships the line being collected, without its newline. */
  async #endLine(t: Tracked): Promise<void> {
    for (const e of t.splitter.end()) await this.#event(t, e, false);
    this.#o.shipper.readChunks.fed(t.splitter);
  }

  async #event(t: Tracked, e: LineEvent, newline: boolean): Promise<void> {
    const { shipper } = this.#o;
    const nl = newline ? 1 : 0;
    if (e.type === "line") {
      while (t.lineStart - t.watermark.offset > this.#o.maxUnsettledBytes) {
        if (this.#o.stop.reason !== undefined) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      const end = t.lineStart + e.bytes.length + nl;
      t.lineStart = end;
      if (!shipper.countLine(e.bytes)) return t.watermark.skip(end);
      await shipper.put(e.bytes, t.watermark.track(end));
      return;
    }
    await shipper.line(e);
    if (e.type === "overflowEnd") {
      // Streamed to the dead-letter file as it was read: settled already.
      t.lineStart += e.length + nl;
      t.watermark.skip(t.lineStart);
    }
  }

  /** Forgets rotated files that are read to their end and fully settled. */
  #dropSettled(): void {
    for (const [key, t] of this.#tails) {
      if (t.finished && t.moved && t.watermark.offset >= t.end) this.#tails.delete(key);
    }
  }

  #sleep(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.#o.pollMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => (this.#wake = undefined));
  }

  /** Wakes the poll early on file events; polling stays the ground truth. */
  async #watch(): Promise<{ close(): Promise<void> } | undefined> {
    const dirs = new Set<string>();
    for (const pattern of this.#o.patterns) dirs.add(resolve(staticPart(pattern)));
    try {
      // Loaded only when following: other runs start faster without it.
      const { watch } = await import("chokidar");
      const watcher = watch([...dirs], { ignoreInitial: true, depth: 8, persistent: true });
      watcher.on("all", () => this.#wake?.());
      watcher.on("error", () => {});
      return watcher;
    } catch {
      return undefined;
    }
  }
}

/** The directory part of a pattern before its first glob character. */
function staticPart(pattern: string): string {
  if (!isDynamicPattern(pattern)) return dirname(pattern);
  const parts = pattern.split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (isDynamicPattern(part)) break;
    out.push(part);
  }
  const dir = out.join("/");
  return dir === "" ? (pattern.startsWith("/") ? "/" : ".") : dir;
}

/** A file in `dir` with identity `key` that `allowed` accepts, if any (a rotated file keeps its inode). */
async function findByIdentity(
  dir: string,
  key: string,
  allowed: (path: string) => boolean,
): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (!allowed(path)) continue;
    const id = await identityAt(path);
    if (id && identityKey(id) === key) return path;
  }
  return undefined;
}
