import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeBody } from "../../src/aws/kinesis_client.ts";
import { decodeCbor } from "../../src/aws/cbor.ts";
import { bytes, int, rng } from "../support/random.ts";

const toBase64 = (b: Uint8Array) => btoa(Array.from(b, (c) => String.fromCharCode(c)).join(""));

describe("encodeBody", () => {
  it("writes PutRecord JSON with base64 data, any other members, and nothing undefined", () => {
    const rand = rng(8);
    for (let i = 0; i < 200; i++) {
      const data = bytes(rand, int(rand, 0, 5000));
      const params = {
        StreamName: i % 2 ? 's-"quoted"-é' : undefined,
        StreamARN: i % 2 ? undefined : "arn:aws:kinesis:us-east-1:000000000000:stream/x",
        Data: data,
        PartitionKey: `k${i}`,
        ExplicitHashKey: i % 3 ? undefined : "42",
        SequenceNumberForOrdering: undefined,
      };
      const parsed = JSON.parse(new TextDecoder().decode(encodeBody("json", params)));
      const expected: Record<string, string> = { Data: toBase64(data), PartitionKey: `k${i}` };
      if (params.StreamName) expected.StreamName = params.StreamName;
      if (params.StreamARN) expected.StreamARN = params.StreamARN;
      if (params.ExplicitHashKey) expected.ExplicitHashKey = "42";
      assert.deepEqual(parsed, expected);
    }
    assert.equal(
      new TextDecoder().decode(encodeBody("json", { Data: new Uint8Array([1]) })),
      '{"Data":"AQ=="}',
    );
  });

  it("writes CBOR with data as a byte string", () => {
    const data = new Uint8Array([0, 1, 2, 255]);
    const out = decodeCbor(encodeBody("cbor", { Data: data, PartitionKey: "k" })) as Record<
      string,
      unknown
    >;
    assert.deepEqual(out.Data, data);
    assert.equal(out.PartitionKey, "k");
  });
});

describe("encodeBody: PutRecords JSON", () => {
  it("writes the same bytes as the generic JSON path", () => {
    const records = [
      { Data: new Uint8Array([0, 1, 2, 250]), PartitionKey: 'k"\\ü😀', ExplicitHashKey: "42" },
      { Data: new Uint8Array(0), PartitionKey: "a", ExplicitHashKey: undefined },
    ];
    for (const target of [{ StreamName: "s" }, { StreamARN: "arn:x" }, {}]) {
      const params = { ...target, Records: records };
      const fast = new TextDecoder().decode(encodeBody("json", params));
      const generic = JSON.stringify(
        params,
        (_k, v) => v instanceof Uint8Array ? btoa(String.fromCharCode(...v)) : v,
      );
      assert.equal(fast, generic);
    }
  });
});

describe("encodeBody: JSON in one buffer", () => {
  // The reference: JSON.stringify with awsJson's rules (bytes base64, dates epoch seconds).
  const reference = (params: unknown) =>
    JSON.stringify(params, function (this: Record<string, unknown>, k, v) {
      const raw = this[k];
      if (raw instanceof Uint8Array) return toBase64(raw);
      if (raw instanceof Date) return raw.getTime() / 1000;
      return v;
    });

  it("writes exactly JSON.stringify's text for random shapes, sizes and keys", () => {
    const rand = rng(16);
    const key = () =>
      ["a", 'q"\\', "ключ", "😀\u0001\n", "x".repeat(int(rand, 1, 256))][int(rand, 0, 4)];
    for (let i = 0; i < 300; i++) {
      const entries = Array.from({ length: int(rand, 1, 20) }, () => ({
        Data: bytes(rand, int(rand, 0, 3000)),
        PartitionKey: key(),
        ExplicitHashKey: rand() < 0.5 ? undefined : String(int(rand, 0, 1e9)),
      }));
      const params = rand() < 0.5 ? { StreamName: key(), Records: entries } : {
        StreamARN: key(),
        ...entries[0],
        SequenceNumberForOrdering: rand() < 0.5 ? "49" : undefined,
        Nested: { When: new Date(1767225600123), List: [1, undefined, null, "s", true] },
      };
      const body = encodeBody("json", params);
      assert.equal(new TextDecoder().decode(body), reference(params), `case ${i}`);
      assert.equal(body.byteLength, body.buffer.byteLength, "right-sized: no spare capacity");
    }
  });
});
