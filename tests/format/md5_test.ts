import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { md5, md5Key, md5Native, md5Portable, md5WasmReady } from "../../src/format/md5.ts";
import { md5Words } from "../../src/format/key_hash.ts";
import { bytes, int, rng, text } from "../support/random.ts";

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

  it("md5Words (hand-written one-block MD5 for keys) equals node:crypto and noble, lengths 0..256, at any offset", () => {
    const rand = rng(16);
    const words = { w0: 0, w1: 0, w2: 0, w3: 0 };
    const asBytes = () =>
      [words.w0, words.w1, words.w2, words.w3].flatMap((
        w,
      ) => [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255]);
    for (let n = 0; n <= 256; n++) {
      for (let t = 0; t < 8; t++) {
        // Edge bytes too: all zeros, all 0xff, 0x80 (the padding byte).
        const data = t === 0
          ? new Uint8Array(n)
          : t === 1
          ? new Uint8Array(n).fill(255)
          : t === 2
          ? new Uint8Array(n).fill(0x80)
          : bytes(rand, n);
        const offset = int(rand, 0, 9);
        const padded = new Uint8Array(offset + n + 5).fill(0xaa);
        padded.set(data, offset);
        md5Words(padded, words, offset, n);
        assert.deepEqual(asBytes(), [...md5Native!(data)], `length ${n}, offset ${offset}`);
        assert.deepEqual(asBytes(), [...md5Portable(data)], `length ${n}, offset ${offset}`);
      }
    }
    // Multi-byte UTF-8 keys around the one-block limit (55 bytes).
    const enc = new TextEncoder();
    for (let i = 0; i < 500; i++) {
      const key = enc.encode(text(rand, int(rand, 1, 40)));
      md5Words(key, words);
      assert.deepEqual(asBytes(), [...md5Portable(key)], `key of ${key.length} bytes`);
    }
  });
});
