/** The three SHA-256 backends against node:crypto, around the WebCrypto threshold and for HMAC. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import {
  AutoSha256,
  hasherFor,
  type HasherName,
  WEBCRYPTO_MIN_BYTES,
} from "../../src/aws/sha256.ts";
import { bytes, rng } from "../support/random.ts";

const HASHERS: HasherName[] = ["js", "webcrypto", "auto"];
const SIZES = [
  0,
  1,
  55,
  56,
  63,
  64,
  65,
  119,
  120,
  1000,
  4096,
  WEBCRYPTO_MIN_BYTES - 1,
  WEBCRYPTO_MIN_BYTES,
  WEBCRYPTO_MIN_BYTES + 1,
  100_000,
  1 << 20,
];
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe("sha256 hashers", () => {
  const rand = rng(20260314);
  for (const size of SIZES) {
    it(`hash of ${size} bytes agrees with node:crypto`, async () => {
      const data = bytes(rand, size);
      const want = createHash("sha256").update(data).digest("hex");
      for (const name of HASHERS) {
        const h = new (hasherFor(name))();
        // Split updates exercise the buffering path.
        h.update(data.subarray(0, size >> 1));
        h.update(data.subarray(size >> 1));
        assert.equal(hex(await h.digest()), want, name);
      }
    });
  }

  for (const keyLen of [0, 1, 32, 64, 65, 200]) {
    it(`HMAC with a ${keyLen}-byte key agrees with node:crypto`, async () => {
      const key = bytes(rand, keyLen);
      for (const size of [0, 13, WEBCRYPTO_MIN_BYTES + 5]) {
        const data = bytes(rand, size);
        const want = createHmac("sha256", key).update(data).digest("hex");
        for (const name of HASHERS) {
          const h = new (hasherFor(name))(key);
          h.update(data);
          assert.equal(hex(await h.digest()), want, `${name} key=${keyLen} size=${size}`);
        }
      }
    });
  }

  it("string input is UTF-8, and reset forgets", async () => {
    const s = "AWS4wJalr/日本😀";
    const want = createHash("sha256").update(s, "utf8").digest("hex");
    for (const name of HASHERS) {
      const h = new (hasherFor(name))();
      h.update("garbage");
      h.reset();
      h.update(s);
      assert.equal(hex(await h.digest()), want, name);
    }
  });
});

/** Runs `fn` while counting calls to the `crypto.subtle` methods the hashers use. */
async function countingSubtle(fn: () => Promise<void>): Promise<number> {
  const subtle = crypto.subtle as unknown as Record<string, unknown>;
  const names = ["digest", "importKey", "sign"] as const;
  let calls = 0;
  for (const name of names) {
    const original = crypto.subtle[name] as (...args: unknown[]) => unknown;
    subtle[name] = function (this: SubtleCrypto, ...args: unknown[]) {
      calls++;
      return original.apply(this, args);
    };
  }
  try {
    await fn();
  } finally {
    // The spies are own properties; deleting them uncovers the prototype's methods.
    for (const name of names) delete subtle[name];
  }
  return calls;
}

// `auto` is NodeSha256 wherever node:crypto exists (Deno, Bun, Node), so the
// Workers path, AutoSha256, is only reached by using it directly.
describe("AutoSha256 (the hasher where there is no node:crypto)", () => {
  const rand = rng(20260315);
  const sizes = [0, 64, WEBCRYPTO_MIN_BYTES - 1, WEBCRYPTO_MIN_BYTES, WEBCRYPTO_MIN_BYTES + 1];
  for (const size of [...sizes, 1 << 20]) {
    const backend = size >= WEBCRYPTO_MIN_BYTES ? "WebCrypto" : "sha256-js";
    it(`hash of ${size} bytes agrees with node:crypto, on ${backend}`, async () => {
      const data = bytes(rand, size);
      const want = createHash("sha256").update(data).digest("hex");
      let got = "";
      const calls = await countingSubtle(async () => {
        const h = new AutoSha256();
        h.update(data.subarray(0, size >> 1));
        h.update(data.subarray(size >> 1));
        got = hex(await h.digest());
      });
      assert.equal(got, want);
      assert.equal(calls, size >= WEBCRYPTO_MIN_BYTES ? 1 : 0, "crypto.subtle calls");
    });
  }

  it("HMAC agrees with node:crypto and stays on sha256-js at every size", async () => {
    for (const keyLen of [0, 32, 65]) {
      const key = bytes(rand, keyLen);
      for (const size of [0, 13, WEBCRYPTO_MIN_BYTES + 5]) {
        const data = bytes(rand, size);
        const want = createHmac("sha256", key).update(data).digest("hex");
        let got = "";
        const calls = await countingSubtle(async () => {
          const h = new AutoSha256(key);
          h.update(data);
          got = hex(await h.digest());
        });
        assert.equal(got, want, `key=${keyLen} size=${size}`);
        assert.equal(calls, 0, `crypto.subtle calls, key=${keyLen} size=${size}`);
      }
    }
  });
});
