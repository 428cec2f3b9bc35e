import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { aggregate, AggregateFormatError, deaggregate } from "../../mod.ts";
import { md5Portable } from "../../src/format/md5.ts";
import { bytes, int, rng } from "../support/random.ts";

const enc = new TextEncoder();
const MAGIC = [0xf3, 0x89, 0x9a, 0xc2];

/** Frames `message` as an aggregate with a correct checksum. */
function frame(message: number[]): Uint8Array {
  const body = new Uint8Array(message);
  return new Uint8Array([...MAGIC, ...body, ...md5Portable(body)]);
}

function assertPassThrough(data: Uint8Array, key = "outer") {
  const out = deaggregate(data, key);
  assert.equal(out.length, 1);
  assert.equal(out[0].data, data, "the very same bytes come back");
  assert.equal(out[0].partitionKey, key);
  assert.equal(out[0].aggregated, false);
}

describe("deaggregate: KCL pass-through", () => {
  it("no magic", () => assertPassThrough(enc.encode("plain record")));
  it("empty input", () => assertPassThrough(new Uint8Array(0)));
  it("magic followed by 16 bytes or fewer", () => {
    assertPassThrough(new Uint8Array([...MAGIC]));
    assertPassThrough(new Uint8Array([...MAGIC, ...new Uint8Array(16)]));
  });
  it("MD5 mismatch; strict mode throws instead", () => {
    const [agg] = aggregate([{ data: enc.encode("x") }]);
    const bad = agg.data.slice();
    bad[bad.length - 1] ^= 1;
    assertPassThrough(bad);
    assert.throws(
      () => deaggregate(bad, "k", { strict: true }),
      (e: unknown) => e instanceof AggregateFormatError && e.code === "ChecksumMismatch",
    );
  });
  it("a record missing its required partition_key_index", () => {
    // table ["k"], record { data: "x" } without field 1
    assertPassThrough(frame([0x0a, 0x01, 0x6b, 0x1a, 0x03, 0x1a, 0x01, 0x78]));
    assert.throws(
      () =>
        deaggregate(frame([0x0a, 0x01, 0x6b, 0x1a, 0x03, 0x1a, 0x01, 0x78]), "", { strict: true }),
      AggregateFormatError,
    );
  });
  it("a record missing its required data", () =>
    assertPassThrough(frame([0x0a, 0x01, 0x6b, 0x1a, 0x02, 0x08, 0x00])));
  it("a partition key index out of range", () =>
    assertPassThrough(frame([0x0a, 0x01, 0x6b, 0x1a, 0x05, 0x08, 0x01, 0x1a, 0x01, 0x78])));
  it("a tag without its required key", () => {
    assertPassThrough(
      frame([0x0a, 0x01, 0x6b, 0x1a, 0x07, 0x08, 0x00, 0x1a, 0x01, 0x78, 0x22, 0x00]),
    );
  });
  it("a length that claims 4 GB is an error, not an allocation", () => {
    // data field with length varint 0xffffffff
    assertPassThrough(
      frame([
        0x0a,
        0x01,
        0x6b,
        0x1a,
        0x0a,
        0x08,
        0x00,
        0x1a,
        0xff,
        0xff,
        0xff,
        0xff,
        0x0f,
        0x78,
        0x78,
        0x78,
      ]),
    );
  });
  // Groups are skipped as unknown fields (as protobuf-java and upb do); only broken ones are malformed.
  it("an end-group without its start is malformed", () => assertPassThrough(frame([0x0c])));
  it("a group without its end is malformed", () => assertPassThrough(frame([0x0b])));
  it("a matched group is skipped: a valid aggregate of zero records", () =>
    assert.deepEqual(deaggregate(frame([0x0b, 0x0c])), []));
});

describe("deaggregate: reading", () => {
  it("skips unknown fields and reads tags", () => {
    // unknown field 9 varint, record with a tag {key:"t"} and unknown field 7 fixed32
    const out = deaggregate(frame([
      0x48,
      0x05,
      0x0a,
      0x01,
      0x6b,
      0x1a,
      0x0f,
      0x08,
      0x00,
      0x1a,
      0x01,
      0x78,
      0x22,
      0x03,
      0x0a,
      0x01,
      0x74,
      0x3d,
      1,
      2,
      3,
      4,
    ]));
    assert.equal(out.length, 1);
    assert.equal(out[0].aggregated, true);
    assert.equal(out[0].partitionKey, "k");
    assert.deepEqual([...out[0].data], [0x78]);
  });
  it("a valid aggregate with zero records gives zero records, as KCL does", () => {
    assert.deepEqual(deaggregate(frame([0x0a, 0x01, 0x6b])), []);
  });
});

describe("deaggregate: fuzzing", () => {
  const samples = [
    aggregate([{ data: enc.encode("hello") }, { data: new Uint8Array(0) }, {
      data: bytes(rng(1), 300),
    }])[0],
    aggregate(
      [{ data: enc.encode("a"), partitionKey: "k1", explicitHashKey: "42" }, {
        data: enc.encode("b"),
        partitionKey: "ключ",
      }],
      {
        keyed: true,
        shards: [{ startingHashKey: "0", endingHashKey: ((1n << 128n) - 1n).toString() }],
      },
    )[0],
  ];

  // Outputs never larger than the input bound the work per input; no wall-clock assertion
  // (a 100 ms limit here failed under load, and timing belongs in benchmarks).
  function mustNotThrow(data: Uint8Array) {
    const out = deaggregate(data, "p");
    assert.ok(Array.isArray(out));
    let total = 0;
    for (const r of out) {
      assert.ok(r.data.length <= data.length, "no output larger than the input");
      total += r.data.length;
    }
    assert.ok(total <= data.length, "outputs together no larger than the input");
  }

  it("random bytes, with and without magic", () => {
    const rand = rng(1234);
    for (let i = 0; i < 5000; i++) {
      const data = bytes(rand, int(rand, 0, 200));
      if (rand() < 0.5 && data.length >= 4) data.set(MAGIC, 0);
      mustNotThrow(data);
    }
  });

  it("truncations of valid aggregates", () => {
    for (const agg of samples) {
      for (let n = 0; n < agg.data.length; n++) mustNotThrow(agg.data.subarray(0, n));
    }
  });

  it("bit flips, re-checksummed so the parser sees them", () => {
    const rand = rng(777);
    for (let i = 0; i < 20_000; i++) {
      const agg = samples[i % samples.length];
      const message = [...agg.data.subarray(4, agg.data.length - 16)];
      const flips = int(rand, 1, 4);
      for (let f = 0; f < flips; f++) {
        message[int(rand, 0, message.length - 1)] ^= 1 << int(rand, 0, 7);
      }
      mustNotThrow(frame(message));
    }
  });

  it("random protobuf-shaped messages behind a valid checksum", () => {
    const rand = rng(4242);
    for (let i = 0; i < 5000; i++) {
      const message: number[] = [];
      const fields = int(rand, 0, 12);
      for (let f = 0; f < fields; f++) {
        message.push((int(rand, 1, 5) << 3) | int(rand, 0, 7));
        const len = int(rand, 0, 6);
        for (let b = 0; b < len; b++) message.push(int(rand, 0, 255));
      }
      mustNotThrow(frame(message));
    }
  });
});
