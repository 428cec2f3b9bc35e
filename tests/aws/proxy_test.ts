import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  detectRuntime,
  proxyFetch,
  ProxyUnsupportedError,
  redactUrl,
} from "../../src/runtime/proxy.ts";
import { fromAssumeRole } from "../../src/aws/credentials/sts.ts";
import { fromStatic } from "../../src/aws/credentials/static.ts";
import { type ForwardProxy, startForwardProxy } from "../support/forward_proxy.ts";
import { startFakeSts } from "../support/fake_sts.ts";
import { listenLoopback } from "../support/http.ts";

const runtime = detectRuntime();

describe("proxy URL validation", () => {
  it("accepts only http(s) and never echoes a password", async () => {
    await assert.rejects(proxyFetch("socks5://me:hunter2@127.0.0.1:1080"), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(
        e.message,
        /socks5:\/\/me:\*\*\*@127\.0\.0\.1:1080.*must be http: or https:, current value is socks5:/,
      );
      assert.ok(!e.message.includes("hunter2"));
      return true;
    });
    await assert.rejects(
      proxyFetch("me:hunter2@proxy:3128"),
      (e: Error) => e instanceof TypeError && !e.message.includes("hunter2"),
    );
    await assert.rejects(
      proxyFetch("http://me:hunter2@"),
      (e: Error) => e instanceof TypeError && !e.message.includes("hunter2"),
    );
  });

  it("redacts user info passwords in any string", () => {
    assert.equal(redactUrl("http://u:p@h:1/x?y#z"), "http://u:***@h:1/x?y#z");
    assert.equal(redactUrl("http://u@h"), "http://u@h");
    assert.equal(redactUrl("http://h/p@q"), "http://h/p@q");
    assert.equal(redactUrl("u:p:q@h"), "u:***@h");
  });

  it("throws ProxyUnsupportedError where no proxy is possible (Workers, unknown)", async () => {
    for (const rt of ["workerd", "unknown"] as const) {
      await assert.rejects(proxyFetch("http://127.0.0.1:3128", { runtime: rt }), (e: unknown) => {
        assert.ok(e instanceof ProxyUnsupportedError);
        assert.equal(e.name, "ProxyUnsupportedError");
        assert.equal(e.code, "ProxyUnsupported");
        assert.equal(e.runtime, rt);
        assert.equal(e.retryable, false);
        return true;
      });
    }
  });
});

// The runtime's own mechanism, plus undici (what Node uses), which Deno can run too.
// Bun maps "undici" to a stand-in that ignores dispatchers, so there it must refuse.
const mechanisms: ("deno" | "bun" | "node")[] = runtime === "deno"
  ? ["deno", "node"]
  : runtime === "bun"
  ? ["bun"]
  : runtime === "node"
  ? ["node"]
  : [];

if (runtime === "bun") {
  it("refuses the undici mechanism in Bun rather than silently bypassing the proxy", async () => {
    await assert.rejects(
      proxyFetch("http://127.0.0.1:3128", { runtime: "node" }),
      ProxyUnsupportedError,
    );
  });
}

for (const mechanism of mechanisms) {
  describe(`proxyFetch via ${mechanism} in ${runtime}`, () => {
    let proxy: ForwardProxy;
    let target: Awaited<ReturnType<typeof listenLoopback>>;
    const seen: { path?: string; forwardedBy?: string | string[] }[] = [];
    before(async () => {
      proxy = await startForwardProxy({ auth: "kpl:p@ss:word" });
      target = await listenLoopback((req, res) => {
        seen.push({ path: req.url, forwardedBy: req.headers["x-forwarded-by"] });
        res.end(`hello ${req.method} ${req.url}`);
      });
    });
    after(async () => {
      await proxy.close();
      await target.close();
    });

    it("sends requests through the proxy, with Proxy-Authorization from the URL", async () => {
      const proxyUrl = proxy.url.replace(
        "http://",
        "http://kpl:" + encodeURIComponent("p@ss:word") + "@",
      );
      const fetch = await proxyFetch(proxyUrl, { runtime: mechanism });
      try {
        const response = await fetch(`${target.url}path?q=1`, { method: "POST", body: "x" });
        assert.equal(await response.text(), "hello POST /path?q=1");
        const record = proxy.records.at(-1)!;
        assert.equal(record.proxyAuthorization, `Basic ${btoa("kpl:p@ss:word")}`);
        // Deno and Bun send absolute-URI requests for http targets; undici always tunnels with CONNECT.
        if (record.kind === "forward") {
          assert.equal(record.target, `${target.url}path?q=1`);
          assert.equal(seen.at(-1)!.forwardedBy, "test-proxy");
        } else {
          assert.equal(record.target, `127.0.0.1:${target.port}`);
        }
        if (mechanism === "node") assert.equal(record.kind, "connect");
        // A Request object works too.
        const viaRequest = await fetch(
          new Request(`${target.url}req`, { method: "PUT", body: "y" }),
        );
        assert.equal(await viaRequest.text(), "hello PUT /req");
      } finally {
        await fetch.close();
      }
    });

    it("fails when the proxy refuses (no credentials): the request did not bypass it", async () => {
      const fetch = await proxyFetch(proxy.url, { runtime: mechanism });
      try {
        const before = seen.length;
        const outcome = await fetch(`${target.url}denied`).then((r) => r.status, () => "error");
        assert.ok(outcome === 407 || outcome === "error", String(outcome));
        assert.equal(seen.length, before);
      } finally {
        await fetch.close();
      }
    });

    it("STS AssumeRole goes through the same fetch", async () => {
      const source = { accessKeyId: "AKIAPROXY", secretAccessKey: "proxy-src-secret" };
      const sts = await startFakeSts({ known: [source] });
      const proxyUrl = proxy.url.replace(
        "http://",
        "http://kpl:" + encodeURIComponent("p@ss:word") + "@",
      );
      const fetch = await proxyFetch(proxyUrl, { runtime: mechanism });
      try {
        const n = proxy.records.length;
        const creds = await fromAssumeRole({
          roleArn: "arn:aws:iam::1:role/r",
          stsEndpoint: sts.url,
          source: fromStatic(source),
          fetch,
          env: () => undefined,
        })();
        assert.equal(creds.accessKeyId, sts.issued[0].accessKeyId);
        assert.deepEqual(
          sts.requests[0].verified,
          { ok: true, accessKeyId: "AKIAPROXY" },
          "the signature survives the proxy",
        );
        const port = new URL(sts.url).port;
        assert.ok(
          proxy.records.slice(n).some((r) => r.target.includes(`127.0.0.1:${port}`)),
          "the STS call went through the proxy",
        );
      } finally {
        await fetch.close();
        await sts.close();
      }
    });
  });
}
