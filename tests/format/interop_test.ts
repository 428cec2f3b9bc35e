// Interop with the npm package aws-kinesis-agg, in both directions.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import aggModule from "aws-kinesis-agg";

// Its bundled typings reference packages we do not install; use it untyped.
const agg = aggModule as any;
import { aggregate, deaggregate, type UserRecord } from "../../mod.ts";
import { bytes, int, rng, text } from "../support/random.ts";

interface TheirRecord {
  partitionKey: string;
  explicitPartitionKey?: string;
  subSequenceNumber: number;
  data: string;
}

const toBase64 = (b: Uint8Array) => btoa(Array.from(b, (c) => String.fromCharCode(c)).join(""));
const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

function theirDeaggregate(data: Uint8Array, partitionKey: string): TheirRecord[] {
  let out: TheirRecord[] | undefined;
  agg.deaggregateSync(
    { data: toBase64(data), partitionKey, sequenceNumber: "1" },
    true,
    (err: unknown, records: TheirRecord[]) => {
      if (err) throw err;
      out = records;
    },
  );
  return out!;
}

function theirAggregate(
  records: { data: Uint8Array; partitionKey: string; explicitHashKey?: string }[],
) {
  return new Promise<{ data: Uint8Array; partitionKey: string }[]>((resolve, reject) => {
    const out: { data: Uint8Array; partitionKey: string }[] = [];
    agg.aggregate(
      records.map((r) => ({ ...r, data: Buffer.from(r.data) })),
      (encoded: { data: Uint8Array; partitionKey: string }, done: () => void) => {
        out.push({ data: new Uint8Array(encoded.data), partitionKey: encoded.partitionKey });
        done();
      },
      () => resolve(out),
      (err: unknown) => reject(err),
    );
  });
}

describe("interop with aws-kinesis-agg", () => {
  for (const keyed of [false, true]) {
    it(`its deaggregator, checksums on, reads what we write (${keyed ? "keyed" : "shared key"})`, () => {
      const rand = rng(keyed ? 11 : 12);
      const input: UserRecord[] = [];
      for (let i = 0; i < 500; i++) {
        const r: UserRecord = { data: bytes(rand, int(rand, 0, 2000)) };
        if (keyed) r.partitionKey = text(rand, int(rand, 1, 40));
        input.push(r);
      }
      const aggs = aggregate(input, { keyed, targetBytes: 100_000 });
      let seen = 0;
      for (const a of aggs) {
        const theirs = theirDeaggregate(a.data, a.partitionKey);
        assert.equal(theirs.length, a.records.length);
        theirs.forEach((t, i) => {
          assert.deepEqual(fromBase64(t.data), a.records[i].data);
          assert.equal(t.partitionKey, a.records[i].partitionKey ?? a.partitionKey);
          assert.equal(t.subSequenceNumber, i);
        });
        seen += theirs.length;
      }
      assert.equal(seen, input.length);
    });
  }

  it("ours reads what it writes, keys and explicit hash keys included", async () => {
    const rand = rng(21);
    const input: { data: Uint8Array; partitionKey: string; explicitHashKey?: string }[] = [];
    for (let i = 0; i < 400; i++) {
      // Keys are never integer-like below 2^32: see the next test for why.
      const r: (typeof input)[number] = {
        data: bytes(rand, int(rand, 1, 3000)),
        partitionKey: `k${text(rand, int(rand, 1, 30))}`,
      };
      if (rand() < 0.3) r.explicitHashKey = String(BigInt(int(rand, 1, 1e9)) * 10n ** 20n);
      input.push(r);
    }
    const encoded = await theirAggregate(input);
    const back = encoded.flatMap((e) => deaggregate(e.data, e.partitionKey, { strict: true }));
    assert.equal(back.length, input.length);
    back.forEach((r, i) => {
      assert.equal(r.aggregated, true);
      assert.deepEqual(r.data, input[i].data);
      assert.equal(r.partitionKey, input[i].partitionKey);
      assert.equal(r.explicitHashKey, input[i].explicitHashKey);
    });
  });

  it("it mislabels integer-like keys (Object.keys sorts them); we keep table order", async () => {
    const input = [
      { data: new Uint8Array([1]), partitionKey: "k", explicitHashKey: "900" },
      { data: new Uint8Array([2]), partitionKey: "k", explicitHashKey: "100" },
    ];
    const [theirs] = await theirAggregate(input);
    const readBack = deaggregate(theirs.data, theirs.partitionKey).map((r) => r.explicitHashKey);
    assert.deepEqual(readBack, ["100", "900"], "their table is sorted, their indices are not");
    const ours = aggregate(input, { keyed: true }).flatMap((a) => deaggregate(a.data));
    assert.deepEqual(ours.map((r) => r.explicitHashKey), ["900", "100"]);
  });
});
