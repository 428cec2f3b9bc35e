/**
 * Input sources: files and stdin, read as a stream of fresh byte chunks (never
 * a reused buffer, since lines are views into the chunks). Files are opened up
 * front, so a missing or unreadable one stops the run before anything ships.
 * @module
 */
import { type FileHandle, open } from "node:fs/promises";
import process from "node:process";
import { InputError } from "./errors.ts";

/** Bytes per read: large enough for few calls, small enough to stay out of the memory bound. */
export const READ_CHUNK_BYTES = 64 * 1024;

/** An opened input. */
export interface InputSource {
  /** File path, or `-` for stdin. */
  readonly name: string;
  /** The bytes, in fresh chunks. Throws {@link InputError} on a read failure. */
  chunks(): AsyncIterator<Uint8Array>;
  /** Bytes handed out so far. */
  readonly offset: number;
  /**
   * True when every chunk is an array this source allocated and never touches
   * again, so it may be freed (detached) once its lines settle; false for a
   * runtime's pooled buffers.
   */
  readonly ownsChunks: boolean;
  /** Releases the file. */
  close(): Promise<void>;
}

function describe(error: unknown): string {
  const code = (error as { code?: string })?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return (error as Error)?.message ?? String(error);
}

class FileInput implements InputSource {
  offset = 0;
  readonly ownsChunks = true;
  constructor(readonly name: string, readonly handle: FileHandle) {}

  async *#read(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const buf = new Uint8Array(READ_CHUNK_BYTES);
      let n: number;
      try {
        n = (await this.handle.read(buf, 0, buf.length, null)).bytesRead;
      } catch (error) {
        throw new InputError(`Cannot read ${this.name}: ${describe(error)}`, { cause: error });
      }
      if (n === 0) return;
      this.offset += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  }

  chunks(): AsyncIterator<Uint8Array> {
    return this.#read();
  }

  close(): Promise<void> {
    return this.handle.close().catch(() => {});
  }
}

class StdinInput implements InputSource {
  readonly name = "-";
  offset = 0;
  // Deno reads into our own arrays; Node's stream hands out its own (possibly pooled) buffers.
  readonly ownsChunks = Boolean((globalThis as { Deno?: unknown }).Deno);

  async *#read(): AsyncGenerator<Uint8Array> {
    const deno = (globalThis as {
      Deno?: { stdin: { read(p: Uint8Array): Promise<number | null> } };
    }).Deno;
    try {
      if (deno) {
        for (;;) {
          const buf = new Uint8Array(READ_CHUNK_BYTES);
          const n = await deno.stdin.read(buf);
          if (n === null) return;
          if (n === 0) continue;
          this.offset += n;
          yield buf.subarray(0, n);
        }
      }
      for await (const chunk of process.stdin as AsyncIterable<Uint8Array>) {
        this.offset += chunk.length;
        yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    } catch (error) {
      throw new InputError(`Cannot read stdin: ${describe(error)}`, { cause: error });
    }
  }

  chunks(): AsyncIterator<Uint8Array> {
    return this.#read();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Opens every input now (`-` is stdin; an empty list means stdin). Throws an
 * {@link InputError} naming the first that cannot be read, after closing the
 * others.
 */
export async function openInputs(paths: readonly string[]): Promise<InputSource[]> {
  const list = paths.length === 0 ? ["-"] : paths;
  const opened: InputSource[] = [];
  try {
    for (const path of list) {
      if (path === "-") {
        opened.push(new StdinInput());
        continue;
      }
      let handle: FileHandle;
      try {
        handle = await open(path, "r");
      } catch (error) {
        throw new InputError(`Cannot read ${path}: ${describe(error)}`, { cause: error });
      }
      opened.push(new FileInput(path, handle));
      const stat = await handle.stat();
      if (stat.isDirectory()) throw new InputError(`Cannot read ${path}: it is a directory`);
    }
  } catch (error) {
    await Promise.all(opened.map((s) => s.close()));
    throw error;
  }
  return opened;
}
