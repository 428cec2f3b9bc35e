/**
 * MD5, for the aggregate checksum and for partition-key hashing.
 *
 * `@noble/hashes` is the portable baseline (about 80 MiB/s here). Where the
 * runtime has `node:crypto` (Deno, Bun, Node) its MD5 runs about 600 MiB/s, so
 * it is chosen once, at load. Tests prove the two identical.
 * @module
 */
import { md5 as nobleMd5 } from "@noble/hashes/legacy.js";
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

/** The fastest MD5 this runtime has. */
export const md5: Md5 = md5Native ?? md5Portable;
