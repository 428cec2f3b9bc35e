/** Endpoint and proxy URL mistakes: the value echoed (password hidden) and the likely fix. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveEndpoint } from "../../src/aws/endpoint.ts";
import { KinesisError } from "../../src/aws/errors.ts";
import { proxyFetch } from "../../src/runtime/proxy.ts";
import { suggestUrl } from "../../src/runtime/url_hint.ts";

describe("suggestUrl", () => {
  it("adds a missing scheme, fixes near-misses, drops user info", () => {
    assert.equal(suggestUrl("localhost:4566"), "http://localhost:4566");
    assert.equal(suggestUrl("127.0.0.1:4566"), "http://127.0.0.1:4566");
    assert.equal(suggestUrl("[::1]:4566"), "http://[::1]:4566");
    assert.equal(suggestUrl("htp://localhost:4566"), "http://localhost:4566");
    assert.equal(suggestUrl("http:/localhost:4566"), "http://localhost:4566");
    assert.equal(suggestUrl("htps://vpce.example"), "https://vpce.example");
    assert.equal(suggestUrl("http://user:pw@localhost:4566"), "http://localhost:4566");
    assert.equal(
      suggestUrl("kinesis.us-east-1.amazonaws.com"),
      "https://kinesis.us-east-1.amazonaws.com",
    );
  });
  it("guesses nothing for what is not meant as http(s), or is already right", () => {
    for (const raw of ["socks5://h:1080", "not a url", "", "http://localhost:4566"]) {
      assert.equal(suggestUrl(raw), undefined, raw);
    }
  });
});

describe("endpoint and proxy errors", () => {
  it("an endpoint error quotes the value, its source and the fix, never a password", () => {
    const cases: [string, RegExp][] = [
      [
        "localhost:4566",
        /"localhost:4566": it has no scheme.*did you mean http:\/\/localhost:4566\?/,
      ],
      ["htp://h:1", /not htp:; did you mean http:\/\/h:1\?/],
      [
        "http://me:hunter2@h:1",
        /"http:\/\/me:\*\*\*@h:1": it carries user info.*did you mean http:\/\/h:1\?/,
      ],
    ];
    for (const [raw, message] of cases) {
      assert.throws(() => resolveEndpoint("us-east-1", { endpoint: raw }), (e: unknown) => {
        assert.ok(e instanceof KinesisError);
        assert.equal(e.code, "InvalidEndpoint");
        assert.match(e.message, message);
        assert.ok(!e.message.includes("hunter2"));
        return true;
      });
    }
  });
  it("a proxy error quotes the value and the fix", async () => {
    await assert.rejects(
      proxyFetch("squid:3128"),
      /"squid:3128".*did you mean http:\/\/squid:3128\?/,
    );
    await assert.rejects(proxyFetch("me:hunter2@squid:3128"), (e: Error) => {
      assert.ok(!e.message.includes("hunter2"));
      return true;
    });
  });
});
