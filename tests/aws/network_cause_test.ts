/** Network failure causes: each runtime's error shape, and a real refused connection. */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { KinesisError } from "../../src/aws/errors.ts";
import { KinesisClient } from "../../src/aws/kinesis_client.ts";
import { describeNetworkCause, networkCause } from "../../src/aws/network_cause.ts";
import { detectRuntime, proxyFetch, type ProxyRuntime } from "../../src/runtime/proxy.ts";
import { envProxyFetch, readProxyEnv } from "../../src/runtime/proxy_env.ts";

/** A loopback port nobody listens on (listened on, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const nodeStyle = (code: string, extra: Record<string, unknown> = {}) =>
  new TypeError("fetch failed", {
    cause: Object.assign(new Error(`connect ${code}`), { code, ...extra }),
  });

describe("networkCause", () => {
  it("reads Node's code and address from the cause", () => {
    const found = networkCause(nodeStyle("ECONNREFUSED", { address: "127.0.0.1", port: 4567 }));
    assert.deepEqual(found, {
      code: "ECONNREFUSED",
      text: "connection refused",
      target: "127.0.0.1:4567",
      transient: true,
    });
    assert.equal(
      describeNetworkCause(found!),
      "connection refused (ECONNREFUSED) to 127.0.0.1:4567",
    );
    const dns = networkCause(nodeStyle("ENOTFOUND", { hostname: "kinesis.nowhere.invalid" }));
    assert.equal(dns?.code, "ENOTFOUND");
    assert.equal(dns?.target, "kinesis.nowhere.invalid");
    assert.equal(dns?.transient, false);
  });
  it("reads Bun's code on the error itself, and AggregateError members", () => {
    const bun = Object.assign(new TypeError("Unable to connect"), { code: "ECONNREFUSED" });
    assert.equal(networkCause(bun)?.code, "ECONNREFUSED");
    const both = new TypeError("fetch failed", {
      cause: new AggregateError([
        Object.assign(new Error("connect ECONNREFUSED ::1:80"), { code: "ECONNREFUSED" }),
      ]),
    });
    assert.equal(networkCause(both)?.code, "ECONNREFUSED");
  });
  it("infers the code from Deno's messages", () => {
    const deno = (text: string) =>
      new TypeError("fetch failed", {
        cause: new Error(
          `error sending request for url (http://h/): client error (Connect): ${text}`,
        ),
      });
    assert.equal(
      networkCause(deno("tcp connect error: Connection refused (os error 111)"))?.code,
      "ECONNREFUSED",
    );
    assert.equal(
      networkCause(
        deno("dns error: failed to lookup address information: Name or service not known"),
      )
        ?.code,
      "ENOTFOUND",
    );
    assert.equal(networkCause(deno("invalid peer certificate: UnknownIssuer"))?.code, "CERT");
  });
  it("maps TLS verification codes to CERT, and knows nothing of other errors", () => {
    assert.equal(networkCause(nodeStyle("DEPTH_ZERO_SELF_SIGNED_CERT"))?.code, "CERT");
    assert.equal(networkCause(nodeStyle("CERT_HAS_EXPIRED"))?.transient, false);
    assert.equal(networkCause(new Error("something else")), undefined);
    assert.equal(networkCause(undefined), undefined);
  });
  it("survives a cyclic cause chain", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    assert.equal(networkCause(a), undefined);
  });
});

describe("KinesisClient: a refused connection says so", () => {
  it("names the cause and the address, and keeps the code in the cause chain", async () => {
    const port = await closedPort();
    const client = new KinesisClient({
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: "AKID", secretAccessKey: "secret-secret" },
    });
    const error = await client.putRecord({
      streamName: "s",
      data: new Uint8Array([1]),
      partitionKey: "k",
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof KinesisError);
    assert.equal(error.code, "NetworkError");
    assert.equal(error.retryable, true);
    assert.match(
      error.message,
      new RegExp(`connection refused \\(ECONNREFUSED\\) to 127\\.0\\.0\\.1:${port}`),
    );
    // The runtime's own error stays reachable, and some error in the chain carries the code.
    assert.ok(error.cause instanceof Error);
    const codes: unknown[] = [];
    for (let e: unknown = error.cause, i = 0; e instanceof Error && i < 8; e = e.cause, i++) {
      codes.push((e as { code?: unknown }).code);
    }
    assert.ok(codes.includes("ECONNREFUSED"), String(codes));
  });
});

describe("KinesisClient: a refused proxy is named, not the endpoint", () => {
  for (const mechanism of proxyMechanisms()) {
    it(`names the proxy's address (${mechanism})`, async () => {
      const proxyPort = await closedPort();
      const fetch = await proxyFetch(`http://user:hunter2@127.0.0.1:${proxyPort}`, {
        runtime: mechanism,
      });
      try {
        const client = new KinesisClient({
          region: "us-east-1",
          endpoint: "http://kinesis.invalid:4567",
          credentials: { accessKeyId: "AKID", secretAccessKey: "secret-secret" },
          fetch,
        });
        const error = await client.putRecord({
          streamName: "s",
          data: new Uint8Array([1]),
          partitionKey: "k",
        }).then(() => undefined, (e) => e);
        assert.ok(error instanceof KinesisError);
        assert.equal(error.code, "NetworkError");
        assert.match(
          error.message,
          new RegExp(
            `connection refused \\(ECONNREFUSED\\) to proxy 127\\.0\\.0\\.1:${proxyPort} \\(for kinesis\\.invalid:4567\\)`,
          ),
        );
        assert.doesNotMatch(error.message, /hunter2/);
      } finally {
        await fetch.close();
      }
    });
  }

  it("proxyFor follows NO_PROXY and the scheme", async () => {
    const fetch = await envProxyFetch(
      readProxyEnv((name) =>
        ({ HTTPS_PROXY: "http://u:pw@127.0.0.1:3128", NO_PROXY: "direct.example" })[name]
      ),
    );
    try {
      assert.equal(fetch?.proxyFor("https://kinesis.example/"), "127.0.0.1:3128");
      assert.equal(fetch?.proxyFor("https://direct.example/"), undefined);
      assert.equal(fetch?.proxyFor("http://kinesis.example/"), undefined);
    } finally {
      await fetch?.close();
    }
  });
});

// Deno and Bun have their own proxy mechanism; undici's works in Deno too.
function proxyMechanisms(): ProxyRuntime[] {
  const rt = detectRuntime();
  return rt === "deno" ? ["deno", "node"] : rt === "bun" ? ["bun"] : ["node"];
}
