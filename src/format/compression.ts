/**
 * Per-record gzip, as the Fluent Bit and Fluentd Kinesis plugins offer: each
 * user record's data is compressed on its own, before aggregation, so a
 * consumer can decompress any record without its neighbours. Web
 * `CompressionStream` only (Deno, Bun, Node ≥ 18, Workers): no dependency.
 * @module
 */
import { concatBytes } from "../runtime/bytes.ts";

/** Compression applied to each user record's data. */
export type RecordCompression = "gzip";

/** A record whose data claims to be compressed but does not decompress. */
export class DecompressionError extends Error {
  /** Always `"DecompressionFailed"`. */
  readonly code = "DecompressionFailed";
  /** The same bytes fail the same way. */
  readonly retryable = false;

  /** Creates the error; `cause` is the runtime's stream error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DecompressionError";
  }
}

async function pipe(
  data: Uint8Array,
  transform: TransformStream<Uint8Array, Uint8Array>,
): Promise<Uint8Array> {
  const writer = transform.writable.getWriter();
  // Write and close without awaiting: the reads below drain what they fill.
  const written = writer.write(data).then(() => writer.close());
  written.catch(() => {}); // the reader sees the same failure
  const reader = transform.readable.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  await written;
  if (parts.length === 1) return parts[0];
  return concatBytes(parts, total);
}

/**
 * Gzips `data` (RFC 1952, the runtime's default level).
 *
 * @example Round trip
 * ```ts
 * import { gunzip, gzip } from "@kpl/kinesis-producer/format";
 * const packed = await gzip(new TextEncoder().encode("hello ".repeat(100)));
 * const back = new TextDecoder().decode(await gunzip(packed));
 * if (back !== "hello ".repeat(100)) throw new Error("round trip failed");
 * ```
 */
export function gzip(data: Uint8Array): Promise<Uint8Array> {
  return pipe(data, new CompressionStream("gzip") as TransformStream<Uint8Array, Uint8Array>);
}

/**
 * Reverses {@link gzip}. Rejects with a {@link DecompressionError} when `data`
 * is not a complete gzip stream.
 *
 * @example
 * ```ts
 * import { gunzip, gzip } from "@kpl/kinesis-producer/format";
 * const data = await gunzip(await gzip(new Uint8Array([1, 2, 3])));
 * if (data.length !== 3) throw new Error("unexpected");
 * ```
 */
export async function gunzip(data: Uint8Array): Promise<Uint8Array> {
  try {
    return await pipe(
      data,
      new DecompressionStream("gzip") as TransformStream<Uint8Array, Uint8Array>,
    );
  } catch (cause) {
    throw new DecompressionError(
      `Cannot gunzip record data (${data.length} bytes): not a complete gzip stream`,
      { cause },
    );
  }
}

/** True when `data` starts with the gzip header (`1F 8B 08`, deflate). */
export function isGzip(data: Uint8Array): boolean {
  return data.length >= 18 && data[0] === 0x1f && data[1] === 0x8b && data[2] === 0x08;
}
