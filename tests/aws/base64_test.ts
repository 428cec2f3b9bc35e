/** base64: native, Buffer and the portable table loop agree. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  decodeBase64,
  decodeBase64Portable,
  encodeBase64,
  encodeBase64Portable,
} from "../../src/aws/base64.ts";
import { bytes, int, rng } from "../support/random.ts";

const nativeTo = (Uint8Array.prototype as { toBase64?: (this: Uint8Array) => string }).toBase64;

describe("base64", () => {
  it("RFC 4648 vectors", () => {
    const vectors: Array<[string, string]> = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [plain, b64] of vectors) {
      const data = new TextEncoder().encode(plain);
      assert.equal(encodeBase64(data), b64);
      assert.equal(encodeBase64Portable(data), b64);
      assert.deepEqual(decodeBase64(b64), data);
      assert.deepEqual(decodeBase64Portable(b64), data);
    }
  });

  it("all backends agree on random data of every small length and on 1 MiB", () => {
    const rand = rng(7);
    const sizes = [
      ...Array.from({ length: 300 }, (_, i) => i),
      65_535,
      1 << 20,
      int(rand, 1, 100_000),
    ];
    for (const n of sizes) {
      const data = bytes(rand, n);
      const want = Buffer.from(data).toString("base64");
      assert.equal(encodeBase64Portable(data), want, `portable ${n}`);
      assert.equal(encodeBase64(data), want, `default ${n}`);
      if (nativeTo) assert.equal(nativeTo.call(data), want, `native ${n}`);
      assert.deepEqual(decodeBase64Portable(want), data, `portable decode ${n}`);
      assert.deepEqual(decodeBase64(want), data, `default decode ${n}`);
    }
  });

  it("subarray views encode only their bytes", () => {
    const whole = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const view = whole.subarray(2, 5);
    assert.equal(encodeBase64(view), Buffer.from([3, 4, 5]).toString("base64"));
    assert.equal(encodeBase64Portable(view), Buffer.from([3, 4, 5]).toString("base64"));
  });

  it("decoders accept missing padding and whitespace, reject garbage", () => {
    assert.deepEqual(decodeBase64Portable("Zm9vYg"), new TextEncoder().encode("foob"));
    assert.deepEqual(decodeBase64Portable("Zm9v\nYmFy"), new TextEncoder().encode("foobar"));
    for (const bad of ["Zm9v!", "Z", "Zm9vY", "Zm9v€€€€", "=Zm9"]) {
      assert.throws(() => decodeBase64Portable(bad), SyntaxError, bad);
      assert.throws(() => decodeBase64(bad), SyntaxError, bad);
    }
  });

  it("prints the speed of each encoder on 1 MiB", () => {
    const data = bytes(rng(1), 1 << 20);
    const time = (f: () => unknown) => {
      const t = performance.now();
      for (let i = 0; i < 5; i++) f();
      return ((performance.now() - t) / 5).toFixed(2);
    };
    console.log(
      `base64 1 MiB: default ${time(() => encodeBase64(data))} ms, portable ${
        time(() => encodeBase64Portable(data))
      } ms`,
    );
  });
});
