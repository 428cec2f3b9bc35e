/** CBOR codec: RFC 8949 vectors, round trips, Kinesis shapes, hostile input. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CborError, decodeCbor, encodeCbor } from "../../src/aws/cbor.ts";
import { bytes, rng, text } from "../support/random.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => new Uint8Array(s.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);

// RFC 8949 Appendix A: [value, encoding]; encodings are what this encoder emits
// (shortest integers; float32 when exact, else float64).
const ENCODE_VECTORS: Array<[unknown, string]> = [
  [0, "00"],
  [1, "01"],
  [10, "0a"],
  [23, "17"],
  [24, "1818"],
  [25, "1819"],
  [100, "1864"],
  [1000, "1903e8"],
  [1000000, "1a000f4240"],
  [1000000000000, "1b000000e8d4a51000"],
  [18446744073709551615n, "1bffffffffffffffff"],
  [-18446744073709551616n, "3bffffffffffffffff"],
  [-1, "20"],
  [-10, "29"],
  [-100, "3863"],
  [-1000, "3903e7"],
  [1.5, "fa3fc00000"],
  [1.1, "fb3ff199999999999a"],
  [-4.1, "fbc010666666666666"],
  [false, "f4"],
  [true, "f5"],
  [null, "f6"],
  [undefined, "f7"],
  ["", "60"],
  ["a", "6161"],
  ["IETF", "6449455446"],
  ['"\\', "62225c"],
  ["\u00fc", "62c3bc"],
  ["\u6c34", "63e6b0b4"],
  ["\ud800\udd51", "64f0908591"],
  [new Uint8Array(0), "40"],
  [new Uint8Array([1, 2, 3, 4]), "4401020304"],
  [[], "80"],
  [[1, 2, 3], "83010203"],
  [[1, [2, 3], [4, 5]], "8301820203820405"],
  [{}, "a0"],
  [{ a: 1, b: [2, 3] }, "a26161016162820203"],
  [{ a: "A", b: "B", c: "C", d: "D", e: "E" }, "a56161614161626142616361436164614461656145"],
];

// Decode-only vectors: half floats, indefinite lengths, tags.
const DECODE_VECTORS: Array<[string, unknown]> = [
  ["f90000", 0],
  ["f93c00", 1],
  ["f93e00", 1.5],
  ["f97bff", 65504],
  ["f90001", 5.960464477539063e-8],
  ["f97c00", Infinity],
  ["f9fc00", -Infinity],
  ["fa47c35000", 100000],
  ["5f42010243030405ff", new Uint8Array([1, 2, 3, 4, 5])],
  ["7f657374726561646d696e67ff", "streaming"],
  ["9fff", []],
  ["9f018202039f0405ffff", [1, [2, 3], [4, 5]]],
  ["bf61610161629f0203ffff", { a: 1, b: [2, 3] }],
  ["c249010000000000000000", 18446744073709551616n],
  ["c349010000000000000000", -18446744073709551617n],
  ["d74401020304", new Uint8Array([1, 2, 3, 4])], // unknown tag 23: value kept
  ["c11a514b67b0", new Date(1363896240 * 1000)], // tag 1, seconds
  ["c1fb41d452d9ec200000", new Date(1363896240.5 * 1000)],
  ["c11b0000019d0aa3cc00", new Date(1774000000000)], // tag 1, AWS-style milliseconds
];

// Hostile or malformed input: [hex, message pattern].
const BAD: Array<[string, RegExp]> = [
  ["", /needs 1 more bytes/],
  ["1b0000", /needs 8 more bytes/],
  ["5a7fffffff00", /length 2147483647 exceeds/],
  ["5bffffffffffffffff", /exceeds/],
  ["7a7fffffff", /exceeds/],
  ["9a7fffffff", /array of 2147483647 items exceeds/],
  ["9bffffffffffffffff00", /exceeds/],
  ["ba7fffffff", /map of 2147483647 entries exceeds/],
  ["a10101", /map key is not a text string/],
  ["62c328", /not valid UTF-8/],
  ["0000", /1 trailing bytes/],
  ["ff", /unexpected break/],
  ["1c", /reserved additional info/],
  ["f8ff", /unsupported simple value/],
  ["5f01ff", /bad chunk/],
  ["5f", /needs 1 more bytes/],
  ["9f01", /needs 1 more bytes/],
  ["c1", /needs 1 more bytes/],
  ["c16161", /tag 1 without a finite number/],
  ["1f", /indefinite length on an integer/],
  ["dfff", /indefinite length on a tag/],
];

describe("CBOR", () => {
  for (const [value, enc] of ENCODE_VECTORS) {
    it(`encodes ${typeof value === "bigint" ? `${value}n` : JSON.stringify(value) ?? String(value)} as ${enc}`, () => {
      assert.equal(hex(encodeCbor(value)), enc);
      const back = decodeCbor(unhex(enc));
      if (typeof value === "bigint" && value >= -(2n ** 53n) && value <= 2n ** 53n) {
        assert.equal(back, Number(value));
      } else assert.deepEqual(back, value);
    });
  }

  for (const [enc, value] of DECODE_VECTORS) {
    it(`decodes ${enc}`, () => assert.deepEqual(decodeCbor(unhex(enc)), value));
  }

  it("encodes Date as tag 1 with epoch milliseconds and reads it back", () => {
    const d = new Date("2026-03-14T15:09:26.535Z");
    const enc = encodeCbor({ Timestamp: d });
    assert.deepEqual(decodeCbor(enc), { Timestamp: d });
    assert.match(hex(enc), /c11b/);
  });

  it("skips undefined members, like JSON", () => {
    assert.equal(hex(encodeCbor({ a: undefined, b: 1 })), "a1616201");
  });

  it("round-trips a PutRecord body with 1 MiB of data, allocating once", () => {
    const data = bytes(rng(3), 1 << 20);
    const body = encodeCbor({ StreamName: "s1", PartitionKey: "pk", Data: data });
    // Exact size: map head 1, three keys/values, byte-string head 5.
    assert.equal(
      body.length,
      1 + (1 + 10) + (1 + 2) + (1 + 12) + (1 + 2) + (1 + 4) + (5 + data.length),
    );
    assert.ok(
      body.buffer.byteLength - body.length < 200,
      "one allocation, close to the exact size",
    );
    const out = decodeCbor(body) as { Data: Uint8Array };
    assert.deepEqual(out.Data, data);
    assert.notEqual(out.Data.buffer, body.buffer, "byte strings are copied out");
  });

  it("round-trips random nested values", () => {
    const rand = rng(99);
    const gen = (depth: number): unknown => {
      const k = Math.floor(rand() * (depth > 3 ? 6 : 8));
      switch (k) {
        case 0:
          return Math.floor(rand() * 2 ** 40) - 2 ** 39;
        case 1:
          return rand() * 1e6;
        case 2:
          return text(rand, Math.floor(rand() * 40));
        case 3:
          return bytes(rand, Math.floor(rand() * 300));
        case 4:
          return rand() < 0.5 ? null : rand() < 0.5;
        case 5:
          return Math.floor(rand() * 70_000);
        case 6:
          return Array.from({ length: Math.floor(rand() * 5) }, () => gen(depth + 1));
        default: {
          const o: Record<string, unknown> = {};
          for (let i = Math.floor(rand() * 5); i > 0; i--) {
            o[text(rand, 1 + Math.floor(rand() * 30))] = gen(depth + 1);
          }
          return o;
        }
      }
    };
    for (let i = 0; i < 300; i++) {
      const v = gen(0);
      assert.deepEqual(decodeCbor(encodeCbor(v)), v);
    }
  });

  it("long strings of multi-byte characters fix up their head width", () => {
    for (const n of [7, 8, 9, 80, 90, 21_000, 22_000]) {
      const s = "é".repeat(n);
      assert.equal(decodeCbor(encodeCbor(s)), s);
      const a = "a".repeat(n * 3);
      assert.equal(decodeCbor(encodeCbor(a)), a);
    }
  });

  for (const [enc, pattern] of BAD) {
    it(`rejects ${enc || "empty input"}`, () => {
      assert.throws(
        () => decodeCbor(unhex(enc)),
        (e: unknown) => e instanceof CborError && pattern.test(e.message),
      );
    });
  }

  it("caps nesting depth", () => {
    const deep = new Uint8Array(10_000).fill(0x81);
    assert.throws(() => decodeCbor(deep), /nesting deeper than 64/);
    assert.throws(() => decodeCbor(new Uint8Array(10).fill(0xc1)), /nesting deeper|needs/);
    assert.deepEqual(decodeCbor(unhex("818180"), { maxDepth: 3 }), [[[]]]);
    assert.throws(() => decodeCbor(unhex("81818180"), { maxDepth: 3 }), /nesting deeper than 3/);
  });

  it("keeps __proto__ as data", () => {
    const v = decodeCbor(unhex("a1695f5f70726f746f5f5fa16178f5")) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ["__proto__"]);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it("survives random garbage without anything but CborError", () => {
    const rand = rng(5);
    const seed = encodeCbor({
      Records: [{ Data: new Uint8Array(40), SequenceNumber: "1", T: new Date(0) }],
      N: 1.5,
    });
    for (let i = 0; i < 3000; i++) {
      const buf = i % 2
        ? bytes(rand, Math.floor(rand() * 64))
        : seed.slice(0, Math.floor(rand() * seed.length));
      if (i % 3 === 0 && buf.length) {
        buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      }
      try {
        decodeCbor(buf);
      } catch (e) {
        assert.ok(e instanceof CborError, String(e));
      }
    }
  });

  it("refuses values it cannot encode", () => {
    assert.throws(() => encodeCbor(() => 1), CborError);
    assert.throws(() => encodeCbor(Symbol("x")), CborError);
    assert.throws(() => encodeCbor(2n ** 64n), CborError);
    assert.throws(() => encodeCbor(new Date(Number.NaN)), CborError);
  });
});
