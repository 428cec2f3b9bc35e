/**
 * Every MD5 this runtime can run synchronously, for the floor and the MD5
 * benchmark: `node:crypto` where the runtime has it, `hash-wasm` (WebAssembly,
 * one reused hasher) and `@noble/hashes` (plain JS).
 * @module
 */
import { md5 as nobleMd5 } from "@noble/hashes/legacy.js";
import { createMD5 } from "hash-wasm";
import { md5Native } from "../../src/format/md5.ts";

/** One named MD5. */
export interface Md5Candidate {
  name: "node:crypto" | "hash-wasm" | "noble";
  md5: (data: Uint8Array) => Uint8Array;
}

/** The candidates, slowest (`noble`) left out unless `withNoble`. */
export async function md5Candidates(withNoble = false): Promise<Md5Candidate[]> {
  const out: Md5Candidate[] = [];
  if (md5Native) out.push({ name: "node:crypto", md5: md5Native });
  const wasm = await createMD5();
  out.push({
    name: "hash-wasm",
    md5: (data) => {
      wasm.init();
      wasm.update(data);
      return wasm.digest("binary");
    },
  });
  if (withNoble) out.push({ name: "noble", md5: (data) => nobleMd5(data) });
  return out;
}
