/**
 * The node:http transport (src/runtime/node_http_fetch.ts) behaves like `fetch`
 * where the request path depends on it: redirects come back unfollowed, a
 * refused connection names its code, the response cap stops a long body, an
 * abort after the headers ends the body read, and bodies arrive byte for byte.
 * The client suites in kinesis_client_test.ts also run over it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import process from "node:process";
import { KinesisClient } from "../../src/aws/kinesis_client.ts";
import { KinesisError } from "../../src/aws/errors.ts";
import { nodeHttpFetch } from "../../src/runtime/node_http_fetch.ts";
import { listenLoopback, type Loopback, readBody } from "../support/http.ts";
import { verifySigV4 } from "../support/sigv4_verifier.ts";

const credentials = { accessKeyId: "AKIDNODEHTTP", secretAccessKey: "node-http-test-secret" };
const fetchFn = nodeHttpFetch({ force: true })!;

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("nodeHttpFetch", () => {
  let server: Loopback;
  const bodies: Uint8Array[] = [];
  let answer: (url: string, res: import("node:http").ServerResponse) => void;
  before(async () => {
    server = await listenLoopback(async (req, res) => {
      const body = await readBody(req);
      bodies.push(body);
      const verdict = verifySigV4(
        { method: req.method!, path: req.url!, headers: req.headers, body },
        [credentials],
      );
      // Only /raw (the fetch-level tests below) goes unsigned.
      if (!verdict.ok && req.url !== "/raw") {
        res.writeHead(403, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify({ __type: verdict.code, message: verdict.message }));
        return;
      }
      answer(req.url!, res);
    });
  });
  after(() => server.close());

  const client = (endpoint = server.origin) =>
    new KinesisClient({ region: "us-east-1", endpoint, credentials, fetch: fetchFn });

  it("is chosen only in Node, and only without a proxy variable", () => {
    const g = globalThis as { Deno?: unknown; Bun?: unknown };
    const auto = nodeHttpFetch();
    if (g.Deno || g.Bun) assert.equal(auto, undefined);
    else if (!process.env.HTTP_PROXY && !process.env.HTTPS_PROXY) {
      assert.equal(typeof auto, "function");
    }
  });

  it("sends the body byte for byte with a signature the verifier accepts", async () => {
    answer = (_url, res) => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end('{"ShardId":"shardId-000000000003","SequenceNumber":"42"}');
    };
    bodies.length = 0;
    const data = new Uint8Array(300_000).map((_, i) => i * 7);
    for (const protocol of ["json", "cbor"] as const) {
      const c = new KinesisClient({
        region: "us-east-1",
        endpoint: server.origin,
        credentials,
        fetch: fetchFn,
        protocol,
      });
      if (protocol === "cbor") {
        answer = (_url, res) => {
          res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
          res.end('{"ShardId":"shardId-000000000003","SequenceNumber":"43"}');
        };
      }
      const out = await c.putRecord({ streamName: "s", data, partitionKey: "k" });
      assert.equal(out.shardId, "shardId-000000000003");
    }
    assert.equal(bodies.length, 2);
    const json = JSON.parse(new TextDecoder().decode(bodies[0]));
    assert.deepEqual(Uint8Array.from(atob(json.Data), (ch) => ch.charCodeAt(0)), data);
  });

  it("returns a redirect unfollowed: a Redirect error, and the target sees nothing", async () => {
    let targetHits = 0;
    const target = await listenLoopback((_req, res) => {
      targetHits++;
      res.end("{}");
    });
    try {
      answer = (_url, res) => {
        res.writeHead(307, { location: target.url });
        res.end();
      };
      await assert.rejects(
        client().putRecord({ streamName: "s", data: new Uint8Array(3), partitionKey: "k" }),
        (e: unknown) => e instanceof KinesisError && e.code === "Redirect" && !e.retryable,
      );
      assert.equal(targetHits, 0);
    } finally {
      await target.close();
    }
  });

  it("names a refused connection, with ECONNREFUSED in the cause chain", async () => {
    const port = await closedPort();
    const error = await client(`http://127.0.0.1:${port}`)
      .putRecord({ streamName: "s", data: new Uint8Array(1), partitionKey: "k" })
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof KinesisError);
    assert.equal(error.code, "NetworkError");
    assert.equal(error.retryable, true);
    assert.match(
      error.message,
      new RegExp(`connection refused \\(ECONNREFUSED\\) to 127\\.0\\.0\\.1:${port}`),
    );
    const codes: unknown[] = [];
    for (let e: unknown = error.cause, i = 0; e instanceof Error && i < 8; e = e.cause, i++) {
      codes.push((e as { code?: unknown }).code);
    }
    assert.ok(codes.includes("ECONNREFUSED"), String(codes));
  });

  it("stops reading a body without a length once it passes 64 MiB", async () => {
    let written = 0;
    answer = (_url, res) => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      const chunk = new Uint8Array(1 << 20).fill(0x20);
      const pump = () => {
        while (written < 200 << 20) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      res.on("close", () => (written = Math.max(written, 0)));
      pump();
    };
    await assert.rejects(
      client().putRecord({ streamName: "s", data: new Uint8Array(1), partitionKey: "k" }),
      (e: unknown) => e instanceof KinesisError && e.code === "InvalidResponse" && !e.retryable,
    );
    assert.ok(written < 150 << 20, `the server wrote ${written >> 20} MiB`);
  });

  it("an abort after the headers ends the body read with the abort's reason", async () => {
    answer = (_url, res) => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.write("{");
    };
    const controller = new AbortController();
    const res = await fetchFn(server.origin + "/raw", {
      method: "POST",
      body: "x",
      signal: controller.signal,
      redirect: "manual",
    });
    assert.equal(res.status, 200);
    const reading = res.arrayBuffer();
    controller.abort(new Error("stop here"));
    await assert.rejects(reading, /stop here/);
    // Aborted before the call: rejects at once, nothing sent.
    await assert.rejects(
      fetchFn(server.origin + "/raw", { method: "POST", body: "x", signal: controller.signal }),
      /stop here/,
    );
  });
});
