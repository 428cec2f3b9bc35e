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
 * @module
 */
import { Sha256 as JsSha256 } from "@aws-crypto/sha256-js";

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
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function concat(parts: Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  if (parts.length === 1 && parts[0].buffer instanceof ArrayBuffer) {
    return parts[0] as Uint8Array<ArrayBuffer>;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

async function webCryptoDigest(secret: Uint8Array | undefined, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
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

/** Which SHA-256 backend signs requests. */
export type HasherName = "auto" | "js" | "webcrypto";

/** Returns the hasher class for `name`. */
export function hasherFor(name: HasherName): HasherConstructor {
  switch (name) {
    case "js":
      return JsSha256 as unknown as HasherConstructor;
    case "webcrypto":
      return WebCryptoSha256;
    case "auto":
      return AutoSha256;
  }
}
