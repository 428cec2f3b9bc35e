import assert from "node:assert/strict";
import { it } from "node:test";
import { bypassesProxy, readProxyEnv } from "../../src/runtime/proxy_env.ts";

it("readProxyEnv: lower case first, NO_PROXY split and lower-cased", () => {
  const vars: Record<string, string> = {
    HTTPS_PROXY: "http://upper:1",
    https_proxy: "http://lower:1",
    HTTP_PROXY: "http://plain:2",
    NO_PROXY: " .Internal.Example , localhost:8080,,",
  };
  const env = readProxyEnv((n) => vars[n]);
  assert.deepEqual(env.https, { url: "http://lower:1", from: "https_proxy" });
  assert.deepEqual(env.http, { url: "http://plain:2", from: "HTTP_PROXY" });
  assert.deepEqual(env.noProxy, [".internal.example", "localhost:8080"]);
});

it("bypassesProxy: suffixes, exact names, ports, *, and the metadata agents", () => {
  const no = [".internal.example", "corp.example", "localhost:8080", "[::1]"];
  const t = (u: string, list = no) => bypassesProxy(new URL(u), list);
  assert.equal(t("https://a.internal.example/"), true);
  assert.equal(t("https://internal.example/"), true);
  assert.equal(t("https://x.corp.example/"), true);
  assert.equal(t("https://notcorp.example/"), false);
  assert.equal(t("http://localhost:8080/"), true);
  assert.equal(t("http://localhost:9090/"), false);
  assert.equal(t("http://[::1]:5/"), true);
  assert.equal(t("https://kinesis.us-east-1.amazonaws.com/"), false);
  assert.equal(t("https://kinesis.us-east-1.amazonaws.com/", ["*"]), true);
  assert.equal(t("http://169.254.169.254/latest/api/token", []), true);
  assert.equal(t("http://169.254.170.2/v2/credentials", []), true);
  assert.equal(t("http://[fd00:ec2::254]/latest", []), true);
});
