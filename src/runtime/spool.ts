/**
 * A disk spool for input that cannot be read again (stdin, HTTP): records are
 * appended to segment files before they are accepted, and a segment is
 * deleted once every record in it has settled. What is left on start is
 * shipped first.
 *
 * Segment `NNNNNNNNNNNNNNNN.seg`: an 8-byte header (`KSPL`, u32le version),
 * then frames of u32le length, u32le CRC-32 of the length bytes and the data
 * (so zeros do not check out), the data. A torn
 * last write (a short frame or a checksum mismatch at the end of the newest
 * segment) is detected on open, cut off and reported; damage anywhere else is
 * an error unless the caller asks to keep what is intact.
 *
 * Records settle out of order; each segment's settled prefix (the count of
 * leading records all settled) is kept beside it in `NNNNNNNNNNNNNNNN.ack`
 * (decimal text, replaced by rename at most every 250 ms), so a restart
 * replays only from there: what was in flight, not whole segments.
 * @module
 */
import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { acquireLock, type HeldLock, LockedError, syncDirectory } from "./state_files.ts";

/** Spool format version in each segment's header. */
export const SPOOL_VERSION = 2;
const MAGIC = [0x4b, 0x53, 0x50, 0x4c]; // "KSPL"
const HEADER_BYTES = 8;
const FRAME_BYTES = 8;

/** The spool cannot be used: locked, unreadable, damaged, or of another version. */
export class SpoolError extends Error {
  override name = "SpoolError";
}

/** Options for {@link Spool.open}. */
export interface SpoolOptions {
  /** Cap on the bytes on disk; appends wait for room beyond it. */
  maxBytes: number;
  /** fdatasync after every append (0), at most every N ms, or never (-1). */
  fsyncMs: number;
  /** A segment is closed for appends past this size. @default {1 MiB} */
  segmentBytes?: number;
  /** Keep the intact part of a damaged segment (setting the rest aside) instead of throwing. */
  keepIntact?: boolean;
  /** One-line notices: torn tails cut off, waiting for room or for disk space. */
  warn: (text: string) => void;
}

/** A record found in the spool on open. */
export interface SpooledRecord {
  /** Its bytes (a fresh array). */
  data: Uint8Array;
  /** Call once it is delivered or dead-lettered. */
  settle: () => void;
}

interface Segment {
  seq: number;
  path: string;
  bytes: number;
  records: number;
  settled: number;
  sealed: boolean;
  deleted: boolean;
  fd?: number;
  /** An append is writing to it. */
  writing?: boolean;
  /** Records read back on open, until replayed. */
  pending?: Uint8Array[];
  /** Leading records all settled, and those settled beyond them. */
  prefix: number;
  ahead: Set<number>;
  /** The prefix last written to the `.ack` file. */
  acked: number;
}

/** See the module doc. */
export class Spool {
  /** The spool directory. */
  readonly dir: string;
  readonly #o: Required<Omit<SpoolOptions, "keepIntact">>;
  readonly #lock: HeldLock;
  readonly #segments: Segment[] = [];
  #current: Segment | undefined;
  #bytes = 0;
  #nextSeq = 1;
  #roomWaiters: (() => void)[] = [];
  #lastSync = 0;
  #syncTimer: ReturnType<typeof setTimeout> | undefined;
  #dirty = false;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #stats = { appended: 0, replayed: 0, fsyncs: 0 };

  private constructor(dir: string, options: SpoolOptions, lock: HeldLock) {
    this.dir = dir;
    this.#o = {
      maxBytes: options.maxBytes,
      fsyncMs: options.fsyncMs,
      segmentBytes: options.segmentBytes ?? 1024 * 1024,
      warn: options.warn,
    };
    this.#lock = lock;
  }

  /**
   * Opens (creating) the spool directory, takes its lock (`DIR/lock`, our
   * PID) and reads what is left in it. Throws a {@link SpoolError} when
   * another live process holds it, or a segment is damaged other than by a
   * torn last write or is of another version (unless `keepIntact`).
   */
  static open(dir: string, options: SpoolOptions): Spool {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new SpoolError(`Cannot create spool ${dir}: ${(error as Error).message}`);
    }
    let lock: HeldLock;
    try {
      lock = acquireLock(join(dir, "lock"));
    } catch (error) {
      if (error instanceof LockedError) {
        throw new SpoolError(
          `Cannot use spool ${dir}: ${error.message}; is another shipper running on it?`,
        );
      }
      throw new SpoolError(`Cannot lock spool ${dir}: ${(error as Error).message}`);
    }
    if (lock.staleFrom !== undefined) {
      options.warn(`spool ${dir}: took over the lock of process ${lock.staleFrom}, which is gone`);
    }
    const spool = new Spool(dir, options, lock);
    try {
      spool.#load(options.keepIntact ?? false);
    } catch (error) {
      lock.release();
      throw error;
    }
    return spool;
  }

  /** Bytes on disk now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records appended, replayed, and fdatasync calls made. */
  get stats(): { appended: number; replayed: number; fsyncs: number } {
    return { ...this.#stats };
  }

  #load(keepIntact: boolean): void {
    const names = readdirSync(this.dir).filter((n) => /^\d{16}\.seg$/.test(n)).sort();
    names.forEach((name, i) => {
      const path = join(this.dir, name);
      const seq = Number(name.slice(0, 16));
      this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
      const bytes = new Uint8Array(readFileSync(path));
      const last = i === names.length - 1;
      if (bytes.length < HEADER_BYTES && last) {
        // Torn while its header was written: nothing was accepted into it.
        unlinkSync(path);
        return;
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (
        bytes.length < HEADER_BYTES || MAGIC.some((b, k) => bytes[k] !== b)
      ) {
        return this.#damaged(path, "it is not a spool segment", keepIntact, 0, bytes);
      }
      const version = view.getUint32(4, true);
      if (version !== SPOOL_VERSION) {
        return this.#damaged(
          path,
          `it is spool version ${version}; this shipper reads version ${SPOOL_VERSION}`,
          keepIntact,
          0,
          bytes,
        );
      }
      const records: Uint8Array[] = [];
      let pos = HEADER_BYTES;
      let bad: string | undefined;
      while (pos < bytes.length) {
        if (pos + FRAME_BYTES > bytes.length) {
          bad = "a frame header is cut off";
          break;
        }
        const length = view.getUint32(pos, true);
        const sum = view.getUint32(pos + 4, true);
        if (pos + FRAME_BYTES + length > bytes.length) {
          bad = "a record is cut off";
          break;
        }
        const data = bytes.slice(pos + FRAME_BYTES, pos + FRAME_BYTES + length);
        if (frameSum(length, data) !== sum) {
          bad = "a record's checksum does not match";
          break;
        }
        records.push(data);
        pos += FRAME_BYTES + length;
      }
      if (bad !== undefined) {
        if (last) {
          // A write torn by the crash: never acknowledged, so cutting it off loses nothing accepted.
          this.#o.warn(
            `spool ${path}: ${bad} at byte ${pos} (a write torn by a crash); ` +
              `skipped its last ${bytes.length - pos} bytes`,
          );
          truncate(path, pos);
        } else {
          this.#damaged(path, `${bad} at byte ${pos}`, keepIntact, pos, bytes);
          if (!keepIntact) return;
        }
      }
      const acked = readAck(ackPath(path), records.length);
      if (records.length === acked) {
        rmSync(path, { force: true }); // may be gone already (set aside whole)
        rmSync(ackPath(path), { force: true });
        return;
      }
      this.#segments.push({
        seq,
        path,
        bytes: pos,
        records: records.length,
        settled: acked,
        sealed: true,
        deleted: false,
        pending: records.slice(acked),
        prefix: acked,
        ahead: new Set(),
        acked,
      });
      this.#bytes += pos;
    });
  }

  #damaged(path: string, why: string, keepIntact: boolean, good: number, bytes: Uint8Array): void {
    if (!keepIntact) {
      throw new SpoolError(
        `Cannot use spool segment ${path}: ${why}. Pass --start-over to keep its intact records and set the rest aside`,
      );
    }
    const aside = `${path}.bad-${Date.now()}`;
    writeFileSync(aside, bytes.subarray(good));
    if (good <= HEADER_BYTES) unlinkSync(path);
    else truncate(path, good);
    this.#o.warn(`spool ${path}: ${why}; the rest set aside in ${aside} (--start-over)`);
  }

  /** Records left from earlier runs, oldest first; each must be settled. */
  *replay(): Generator<SpooledRecord> {
    for (const segment of [...this.#segments]) {
      const records = segment.pending ?? [];
      segment.pending = undefined;
      const first = segment.prefix;
      for (let i = 0; i < records.length; i++) {
        this.#stats.replayed++;
        yield { data: records[i], settle: this.#settleFor(segment, first + i) };
      }
    }
  }

  /**
   * Appends `records` (one write) and returns one settle function each, in
   * order. Waits while the spool is at its cap, and while the disk is full
   * (retrying every second); never drops. Throws on other write errors.
   */
  async append(records: readonly Uint8Array[]): Promise<(() => void)[]> {
    if (records.length === 0) return [];
    let size = 0;
    for (const r of records) size += FRAME_BYTES + r.length;
    let told = false;
    while (this.#bytes + size > this.#o.maxBytes && this.#bytes > 0) {
      this.#seal();
      if (!told) {
        this.#o.warn(
          `spool ${this.dir} is full (${this.#bytes} of ${this.#o.maxBytes} bytes): input waits for deliveries`,
        );
        told = true;
      }
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    let toldFull = false;
    while (!this.#current || this.#current.bytes >= this.#o.segmentBytes) {
      try {
        this.#roll();
      } catch (error) {
        if (!diskFull(error)) throw error;
        if (!toldFull) {
          this.#o.warn(`spool ${this.dir}: the disk is full; input waits, nothing is dropped`);
        }
        toldFull = true;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const segment = this.#current!;
    const buf = new Uint8Array(size);
    const view = new DataView(buf.buffer);
    let pos = 0;
    for (const r of records) {
      view.setUint32(pos, r.length, true);
      view.setUint32(pos + 4, frameSum(r.length, r), true);
      buf.set(r, pos + FRAME_BYTES);
      pos += FRAME_BYTES + r.length;
    }
    segment.writing = true;
    try {
      await this.#write(segment, buf);
    } finally {
      segment.writing = false;
    }
    const first = segment.records;
    segment.bytes += size;
    segment.records += records.length;
    this.#bytes += size;
    this.#stats.appended += records.length;
    this.#dirty = true;
    this.#sync(false);
    return records.map((_, i) => this.#settleFor(segment, first + i));
  }

  /** Writes all of `buf` at the segment's end; on a full disk, cuts back, tells, and retries. */
  async #write(segment: Segment, buf: Uint8Array): Promise<void> {
    let told = false;
    for (;;) {
      try {
        let pos = 0;
        // At explicit offsets: after a cut-back the descriptor's own offset would leave a hole.
        while (pos < buf.length) {
          pos += writeSync(segment.fd!, buf, pos, buf.length - pos, segment.bytes + pos);
        }
        if (told) this.#o.warn(`spool ${this.dir}: disk space is back, input goes on`);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (!diskFull(error)) throw error;
        // Cut off the partial frame so the segment stays well-formed, then wait.
        ftruncateSync(segment.fd!, segment.bytes);
        if (!told) {
          this.#o.warn(
            `spool ${this.dir}: the disk is full (${code}); input waits, nothing is dropped`,
          );
          told = true;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** A function that settles record `index` of `segment`; extra calls do nothing. */
  #settleFor(segment: Segment, index: number): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      segment.settled++;
      if (index === segment.prefix) {
        segment.prefix++;
        while (segment.ahead.delete(segment.prefix)) segment.prefix++;
        this.#scheduleAcks();
      } else segment.ahead.add(index);
      this.#maybeDelete(segment);
    };
  }

  /** Writes the `.ack` files of segments whose settled prefix grew, at most every 250 ms. */
  #scheduleAcks(): void {
    if (this.#ackTimer !== undefined) return;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      this.#writeAcks();
    }, ACK_INTERVAL_MS);
  }

  #writeAcks(): void {
    for (const segment of this.#segments) {
      if (segment.deleted || segment.prefix === segment.acked) continue;
      const path = ackPath(segment.path);
      try {
        // No fsync: a stale ack after a power cut only means more duplicates, never a loss.
        writeFileSync(`${path}.tmp`, `${segment.prefix}\n`);
        renameSync(`${path}.tmp`, path);
        segment.acked = segment.prefix;
      } catch (error) {
        this.#o.warn(`cannot write ${path}: ${(error as Error).message}`);
      }
    }
  }

  #maybeDelete(segment: Segment): void {
    if (segment.deleted || segment.settled < segment.records) return;
    if (!segment.sealed) {
      // Everything in the open segment settled: close it (which deletes it) unless a write is on.
      if (segment === this.#current && !segment.writing) this.#seal();
      return;
    }
    segment.deleted = true;
    try {
      rmSync(ackPath(segment.path), { force: true });
      unlinkSync(segment.path);
    } catch (error) {
      this.#o.warn(`cannot delete spool segment ${segment.path}: ${(error as Error).message}`);
    }
    this.#bytes -= segment.bytes;
    const i = this.#segments.indexOf(segment);
    if (i >= 0) this.#segments.splice(i, 1);
    for (const wake of this.#roomWaiters.splice(0)) wake();
  }

  #roll(): void {
    this.#seal();
    const seq = this.#nextSeq++;
    const path = join(this.dir, `${String(seq).padStart(16, "0")}.seg`);
    const fd = openSync(path, "wx", 0o644);
    const header = new Uint8Array(HEADER_BYTES);
    header.set(MAGIC);
    new DataView(header.buffer).setUint32(4, SPOOL_VERSION, true);
    try {
      if (writeSync(fd, header) !== HEADER_BYTES) {
        throw new Error("short write of a segment header");
      }
    } catch (error) {
      // No half-made segment left behind (it would read as damage on the next start).
      closeSync(fd);
      rmSync(path, { force: true });
      throw error;
    }
    const segment: Segment = {
      seq,
      path,
      bytes: HEADER_BYTES,
      records: 0,
      settled: 0,
      sealed: false,
      deleted: false,
      fd,
      prefix: 0,
      ahead: new Set(),
      acked: 0,
    };
    this.#segments.push(segment);
    this.#bytes += HEADER_BYTES;
    this.#current = segment;
    if (this.#o.fsyncMs === 0) syncDirectory(this.dir);
  }

  /** Closes the open segment for appends (flushed first, per the policy). */
  #seal(): void {
    const segment = this.#current;
    if (!segment) return;
    this.#sync(true);
    closeSync(segment.fd!);
    segment.fd = undefined;
    segment.sealed = true;
    this.#current = undefined;
    if (segment.settled >= segment.records) this.#maybeDelete(segment);
  }

  /** Applies the fsync policy; `now`: flush pending writes regardless of the interval. */
  #sync(now: boolean): void {
    const ms = this.#o.fsyncMs;
    const fd = this.#current?.fd;
    if (ms < 0 || !this.#dirty || fd === undefined) return;
    const elapsed = performance.now() - this.#lastSync;
    if (now || ms === 0 || elapsed >= ms) {
      fdatasyncSync(fd);
      this.#stats.fsyncs++;
      this.#dirty = false;
      this.#lastSync = performance.now();
      if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
      this.#syncTimer = undefined;
    } else if (this.#syncTimer === undefined) {
      this.#syncTimer = setTimeout(() => {
        this.#syncTimer = undefined;
        this.#sync(false);
      }, ms - elapsed);
    }
  }

  /**
   * Flushes and closes the open segment and releases the lock. Segments with
   * unsettled records stay for the next start.
   */
  close(): void {
    this.#seal();
    if (this.#ackTimer !== undefined) clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#writeAcks();
    if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    this.#lock.release();
  }
}

/**
 * A frame's checksum: CRC-32 over its length (u32le) and then its data. The
 * length is included so a run of zero bytes (a crash can leave one where
 * pages were never written) does not read as empty records with a valid sum.
 */
function frameSum(length: number, data: Uint8Array): number {
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, length, true);
  return crc32(data, crc32(head)) >>> 0;
}

function diskFull(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** How often settled prefixes are written. */
const ACK_INTERVAL_MS = 250;

function ackPath(segmentPath: string): string {
  return segmentPath.replace(/\.seg$/, ".ack");
}

/** The settled prefix in an `.ack` file; 0 when missing or unreadable (replay all: duplicates, never loss). */
function readAck(path: string, records: number): number {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(n) && n >= 0 && n <= records ? n : 0;
  } catch {
    return 0;
  }
}

function truncate(path: string, length: number): void {
  const fd = openSync(path, "r+");
  try {
    ftruncateSync(fd, length);
  } finally {
    closeSync(fd);
  }
}
