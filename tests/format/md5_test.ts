import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { md5, md5Key, md5Native, md5Portable, md5WasmReady } from "../../src/format/md5.ts";
import { bytes, rng } from "../support/random.ts";

describe("md5", () => {
  it("has a native MD5 on this runtime and picks it", () => {
    assert.ok(md5Native, "node:crypto is reachable through process.getBuiltinModule");
    assert.equal(md5, md5Native);
  });

  it("native and portable agree on many sizes", () => {
    const rand = rng(5);
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 65_536, 1_048_576 + 7]) {
      const data = bytes(rand, n);
      assert.deepEqual([...md5Native!(data)], [...md5Portable(data)], `size ${n}`);
    }
  });

  it("uses the WebAssembly MD5 for keys here, identical to the others on many sizes", async () => {
    assert.equal(await md5WasmReady, true, "hash-wasm compiles where node:crypto exists");
    const rand = rng(9);
    for (const n of [0, 1, 24, 55, 56, 63, 64, 65, 256, 1024, 65_536 + 3]) {
      const data = bytes(rand, n);
      const want = [...md5Portable(data)];
      assert.deepEqual([...md5Key(data)], want, `size ${n}`);
      assert.deepEqual([...md5Key(data)], want, `size ${n}, hasher reused`);
    }
    // Multi-byte UTF-8 keys, as partition keys arrive.
    const key = new TextEncoder().encode("clé-🔑-" + "x".repeat(200));
    assert.deepEqual([...md5Key(key)], [...md5Native!(key)]);
  });

  it("matches the RFC 1321 vectors", () => {
    const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    assert.equal(
      hex(md5Portable(new TextEncoder().encode(""))),
      "d41d8cd98f00b204e9800998ecf8427e",
    );
    assert.equal(
      hex(md5(new TextEncoder().encode("message digest"))),
      "f96b697d7cb7938d525a2f31aaf161d0",
    );
  });
});
