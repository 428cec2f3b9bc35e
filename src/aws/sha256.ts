/**
 * SHA-256 / HMAC-SHA-256 hashers in the shape `@smithy/signature-v4` expects
 * (`new Hash(secret?)`, `update`, `digest`).
 *
 * - `Sha256` from `@aws-crypto/sha256-js` is the portable baseline: synchronous
 *   work, no key import, fastest for the many tiny HMACs of a signature.
 * - {@link WebCryptoSha256} uses `crypto.subtle`: about 4× faster per MiB here,
 *   but each call is async and HMAC needs a key import, so it loses on small input.
 * - {@link AutoSha256} buffers and picks per digest: WebCrypto for a plain hash of
 *   at least {@link WEBCRYPTO_MIN_BYTES}, sha256-js otherwise.
 * - {@link NodeSha256} uses the runtime's `node:crypto` (Deno, Bun, Node), reached
 *   through `process.getBuiltinModule` so Worker bundles never import it. It is
 *   synchronous native code with no key import, so it wins at every size: per
 *   PutRecord signature (Deno 2.9) 112 µs against sha256-js's 207 µs at 1 KiB,
 *   and 1.3 ms against WebCrypto's 3.1 ms at 1 MiB (scripts/bench/signing.ts).
 *   `"auto"` uses it wherever it exists, and {@link AutoSha256} elsewhere.
 * @module
 */
import { Sha256 as JsSha256 } from "@aws-crypto/sha256-js";
import { builtin } from "../runtime/builtin.ts";
import { concatBytes } from "../runtime/bytes.ts";

/** Input the signer feeds to a hasher. */
export type HashInput = string | ArrayBuffer | ArrayBufferView;

/** The hasher interface `@smithy/signature-v4` uses. */
export interface Hasher {
  /** Adds data. */
  update(data: HashInput): void;
  /** Returns the digest of everything added. */
  digest(): Promise<Uint8Array>;
  /** Forgets everything added. */
  reset(): void;
}

/** A hasher class: called with a secret for HMAC, without for a plain hash. */
export type HasherConstructor = new (secret?: HashInput) => Hasher;

/** Smallest plain-hash input that {@link AutoSha256} sends to WebCrypto (measured crossover: a few KiB). */
export const WEBCRYPTO_MIN_BYTES = 16 * 1024;

const encoder = new TextEncoder();

function toBytes(data: HashInput): Uint8Array {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return new Uint8Array(data);
}

/** The parts as one ArrayBuffer-backed array (as WebCrypto wants); a lone such part is not copied. */
function concat(parts: Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  if (parts.length === 1 && parts[0].buffer instanceof ArrayBuffer) {
    return parts[0] as Uint8Array<ArrayBuffer>;
  }
  return concatBytes(parts, total);
}

async function webCryptoDigest(
  secret: Uint8Array | undefined,
  data: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array> {
  if (!secret) return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  // WebCrypto refuses zero-length HMAC keys; HMAC zero-pads keys to the 64-byte
  // block, so 64 zero bytes is the same key.
  const raw = secret.length === 0 ? new Uint8Array(64) : concat([secret], secret.length);
  const key = await crypto.subtle.importKey(
    "raw",
    raw,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

/** Buffers input, then hashes it with a backend chosen at digest time. */
abstract class BufferingHasher implements Hasher {
  protected parts: Uint8Array[] = [];
  protected total = 0;
  protected readonly secret?: Uint8Array;

  constructor(secret?: HashInput) {
    if (secret !== undefined) this.secret = toBytes(secret);
  }

  update(data: HashInput): void {
    const bytes = toBytes(data);
    this.parts.push(bytes);
    this.total += bytes.length;
  }

  reset(): void {
    this.parts = [];
    this.total = 0;
  }

  abstract digest(): Promise<Uint8Array>;

  protected jsDigest(): Promise<Uint8Array> {
    const hash = new JsSha256(this.secret);
    for (const part of this.parts) hash.update(part);
    return hash.digest();
  }
}

/** SHA-256 and HMAC-SHA-256 on `crypto.subtle`. */
export class WebCryptoSha256 extends BufferingHasher {
  /** Returns the digest of everything added. */
  digest(): Promise<Uint8Array> {
    return webCryptoDigest(this.secret, concat(this.parts, this.total));
  }
}

/** sha256-js for HMACs and small bodies, WebCrypto for large bodies. */
export class AutoSha256 extends BufferingHasher {
  /** Returns the digest of everything added. */
  digest(): Promise<Uint8Array> {
    if (!this.secret && this.total >= WEBCRYPTO_MIN_BYTES && globalThis.crypto?.subtle) {
      return webCryptoDigest(undefined, concat(this.parts, this.total));
    }
    return this.jsDigest();
  }
}

interface NodeHashLike {
  update(data: string | Uint8Array): void;
  digest(): Uint8Array;
}

interface NodeCrypto {
  createHash(algorithm: "sha256"): NodeHashLike;
  createHmac(algorithm: "sha256", key: Uint8Array): NodeHashLike;
}

const nodeCrypto = builtin<NodeCrypto>("node:crypto");

/**
 * SHA-256 and HMAC-SHA-256 on `node:crypto`; only usable where
 * {@link nodeSha256Available} is true.
 */
export class NodeSha256 implements Hasher {
  readonly #secret?: Uint8Array;
  #hash: NodeHashLike;

  constructor(secret?: HashInput) {
    if (!nodeCrypto) throw new TypeError("Cannot use NodeSha256: this runtime has no node:crypto");
    if (secret !== undefined) this.#secret = toBytes(secret);
    this.#hash = this.#create();
  }

  #create(): NodeHashLike {
    return this.#secret
      ? nodeCrypto!.createHmac("sha256", this.#secret)
      : nodeCrypto!.createHash("sha256");
  }

  /** Adds data; strings are hashed as UTF-8. */
  update(data: HashInput): void {
    this.#hash.update(typeof data === "string" ? data : toBytes(data));
  }

  /** Returns the digest of everything added, as a plain `Uint8Array`. */
  digest(): Promise<Uint8Array> {
    const d = this.#hash.digest();
    return Promise.resolve(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }

  /** Forgets everything added. */
  reset(): void {
    this.#hash = this.#create();
  }
}

/** Whether this runtime has `node:crypto`, so {@link NodeSha256} works. */
export const nodeSha256Available: boolean = nodeCrypto !== undefined;

/** Which SHA-256 backend signs requests. */
export type HasherName = "auto" | "js" | "webcrypto";

/** Returns the hasher class for `name`; `"auto"` is {@link NodeSha256} where `node:crypto` exists. */
export function hasherFor(name: HasherName): HasherConstructor {
  switch (name) {
    case "js":
      return JsSha256 as unknown as HasherConstructor;
    case "webcrypto":
      return WebCryptoSha256;
    case "auto":
      return nodeCrypto ? NodeSha256 : AutoSha256;
  }
}
