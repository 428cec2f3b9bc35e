/**
 * MD5, for the aggregate checksum and for partition-key hashing.
 *
 * Chosen per runtime on `scripts/bench/md5.ts` (CPU per hash, each candidate in
 * its own process, medians of 5 alternating rounds):
 * - Aggregate bodies (250 KB): `node:crypto` is fastest wherever it exists
 *   (Deno 459 MB/s, Node 562; `hash-wasm` 423 and 427; `@noble/hashes` 88 and 65).
 *   At 1 MiB in Deno too: 467–470 MB/s against 385–429 (3 runs each, `--bytes 1048576`).
 * - Partition keys (24 B): `hash-wasm` (WebAssembly) is fastest: 0.85 µs in Deno
 *   against 4.0 µs for `node:crypto` (1.9 µs and 0.46 µs in Node), because a
 *   `createHash` call costs more than hashing a key.
 * - Workers have no `node:crypto` and refuse WebAssembly compiled from bytes, so
 *   both use `@noble/hashes` there (workerd's `crypto.subtle` MD5 is async only).
 * Tests prove every candidate identical.
 * @module
 */
import { md5 as nobleMd5 } from "@noble/hashes/legacy.js";
import { createMD5 } from "hash-wasm";
import { builtin } from "../runtime/builtin.ts";

/** An MD5 function: 16 bytes out. */
export type Md5 = (data: Uint8Array) => Uint8Array;

interface NodeCrypto {
  createHash(algorithm: "md5"): { update(data: Uint8Array): { digest(): Uint8Array } };
}

/** MD5 from `@noble/hashes`: runs everywhere. */
export const md5Portable: Md5 = (data) => nobleMd5(data);

const nodeCrypto = builtin<NodeCrypto>("node:crypto");

/** MD5 from the runtime's `node:crypto`, or `undefined` where there is none (Workers, browsers). */
export const md5Native: Md5 | undefined = nodeCrypto
  ? (data) => nodeCrypto.createHash("md5").update(data).digest()
  : undefined;

/** The fastest MD5 this runtime has for large inputs (aggregate bodies). */
export const md5: Md5 = md5Native ?? md5Portable;

let wasm: Md5 | undefined;

/**
 * Resolves to whether the WebAssembly MD5 for keys is in use. It is compiled
 * in the background where `node:crypto` exists (so never in Workers); until it
 * is ready, {@link md5Key} uses {@link md5}. Never rejects.
 */
export const md5WasmReady: Promise<boolean> = md5Native
  ? createMD5().then((hasher) => {
    wasm = (data) => {
      hasher.init();
      hasher.update(data);
      return hasher.digest("binary");
    };
    return true;
  }, () => false)
  : Promise.resolve(false);

/** The fastest MD5 this runtime has for short inputs (partition keys): same digest as {@link md5}. */
export function md5Key(data: Uint8Array): Uint8Array {
  return (wasm ?? md5)(data);
}
