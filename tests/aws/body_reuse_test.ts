/**
 * Reused request bodies (src/aws/body_pool.ts): the pool lends and takes back
 * buffers, and a default client (which reuses bodies in Deno and Node) sends
 * every one of many concurrent calls intact, signed, whatever their sizes.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { BodyPool } from "../../src/aws/body_pool.ts";
import { decodeCbor } from "../../src/aws/cbor.ts";
import { KinesisClient } from "../../src/aws/kinesis_client.ts";
import { listenLoopback, type Loopback, readBody } from "../support/http.ts";
import { verifySigV4 } from "../support/sigv4_verifier.ts";

const credentials = { accessKeyId: "AKIDREUSE", secretAccessKey: "body-reuse-test-secret" };

describe("BodyPool", () => {
  it("lends a view of the asked size and reuses a returned buffer that fits", () => {
    const pool = new BodyPool();
    const a = pool.take(100_000);
    assert.equal(a.length, 100_000);
    assert.equal(a.byteOffset, 0);
    pool.give(a);
    const b = pool.take(70_000);
    assert.equal(b.buffer, a.buffer);
    assert.equal(b.length, 70_000);
    // Lent out again: a second take gets another buffer.
    assert.notEqual(pool.take(70_000).buffer, a.buffer);
    pool.give(b);
    pool.give(b); // twice is harmless
    assert.equal(pool.take(10).buffer, a.buffer);
    assert.notEqual(pool.take(10).buffer, a.buffer);
  });

  it("keeps at most eight buffers, the larger ones, and none over 16 MiB", () => {
    const pool = new BodyPool();
    const big = pool.take(17 * 1024 * 1024);
    pool.give(big);
    assert.notEqual(pool.take(17 * 1024 * 1024).buffer, big.buffer);
    const lent = Array.from({ length: 9 }, (_, i) => pool.take((i + 1) * 100_000));
    for (const b of lent) pool.give(b);
    const back = new Set<ArrayBufferLike>();
    for (let i = 0; i < 9; i++) back.add(pool.take(1).buffer);
    const kept = lent.filter((b) => back.has(b.buffer)).map((b) => b.length);
    assert.deepEqual(kept.sort((x, y) => x - y), [2, 3, 4, 5, 6, 7, 8, 9].map((k) => k * 100_000));
  });
});

describe("a default client reusing bodies", () => {
  let server: Loopback;
  const received = new Map<string, Uint8Array>();
  let bad = 0;
  before(async () => {
    server = await listenLoopback(async (req, res) => {
      const body = await readBody(req);
      const verdict = verifySigV4(
        { method: req.method!, path: req.url!, headers: req.headers, body },
        [credentials],
      );
      if (!verdict.ok) bad++;
      const cbor = String(req.headers["content-type"]).includes("cbor");
      const p = (cbor ? decodeCbor(body) : JSON.parse(new TextDecoder().decode(body))) as {
        PartitionKey: string;
        Data: Uint8Array | string;
      };
      const data = typeof p.Data === "string"
        ? Uint8Array.from(atob(p.Data), (c) => c.charCodeAt(0))
        : p.Data;
      received.set(p.PartitionKey, data);
      // Answer at different speeds, so calls end out of order and buffers swap around.
      await new Promise((r) => setTimeout(r, data.length % 7));
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end('{"ShardId":"shardId-000000000000","SequenceNumber":"1"}');
    });
  });
  after(() => server.close());

  for (const protocol of ["json", "cbor"] as const) {
    it(`${protocol}: 60 concurrent calls of mixed sizes all arrive intact and signed`, async () => {
      received.clear();
      bad = 0;
      const client = new KinesisClient({
        region: "us-east-1",
        endpoint: server.origin,
        credentials,
        protocol,
      });
      const sent = new Map<string, Uint8Array>();
      await Promise.all(Array.from({ length: 60 }, (_, i) => {
        const data = new Uint8Array([1_000, 300_000, 70_000, 1_200_000][i % 4] + i)
          .map((_, j) => (j * 13 + i) & 255);
        const key = `${protocol}-${i}`;
        sent.set(key, data);
        return client.putRecord({ streamName: "s", data, partitionKey: key });
      }));
      assert.equal(bad, 0);
      assert.equal(received.size, 60);
      for (const [key, data] of sent) assert.deepEqual(received.get(key), data, key);
    });
  }
});
