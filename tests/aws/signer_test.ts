/**
 * The Signer (on @smithy/signature-v4, with each of our three hashers) against
 * the independent `aws4` package: same request, same date, same signature.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SignatureV4 } from "@smithy/signature-v4";
import { Signer } from "../../src/aws/signer.ts";
import { AutoSha256, type HasherName, WEBCRYPTO_MIN_BYTES } from "../../src/aws/sha256.ts";
import type { AwsCredentials } from "../../src/aws/types.ts";
import { amzDate, aws4Signature, verifySigV4 } from "../support/sigv4_verifier.ts";

const HASHERS: HasherName[] = ["js", "webcrypto", "auto"];
const DATE = new Date("2026-03-14T15:09:26Z");
const CREDS: AwsCredentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const SESSION: AwsCredentials = {
  accessKeyId: "ASIAEXAMPLE",
  secretAccessKey: "c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
  sessionToken: "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token==",
};
const enc = new TextEncoder();

interface Case {
  name: string;
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  creds?: AwsCredentials;
  service?: string;
  region?: string;
}

const bigBody = new Uint8Array(70_000).map((_, i) => (i * 31) & 255);

const CASES: Case[] = [
  {
    name: "PutRecord JSON",
    url: "https://kinesis.us-east-1.amazonaws.com/",
    body: '{"StreamName":"s","Data":"AQID","PartitionKey":"k"}',
  },
  {
    name: "session token",
    url: "https://kinesis.eu-west-1.amazonaws.com/",
    body: "{}",
    creds: SESSION,
    region: "eu-west-1",
  },
  {
    name: "unicode body",
    url: "https://kinesis.us-east-1.amazonaws.com/",
    body: '{"PartitionKey":"日本語 😀 äöü"}',
  },
  {
    name: "unicode header value",
    url: "https://kinesis.us-east-1.amazonaws.com/",
    headers: { "x-amz-meta-name": "zoë  —  café " },
    body: "x",
  },
  { name: "path with spaces, unicode and %", url: "https://example.com/a b/ü%20c/%25x/", body: "" },
  {
    name: "path with dot segments and double slash",
    url: "https://example.com/a//b/./c/",
    body: "",
  },
  {
    name: "query string, sorted and escaped",
    url: "https://example.com/?b=2&a=1&a=0&c=x%20y&d=%2F~&e=*()!'",
    body: "",
  },
  { name: "empty body, port in host", url: "http://127.0.0.1:4566/", body: "" },
  {
    name: "binary body above the WebCrypto threshold",
    url: "https://kinesis.us-east-1.amazonaws.com/",
    body: bigBody,
  },
  {
    name: "sts service",
    url: "https://sts.amazonaws.com/",
    body: "Action=GetCallerIdentity&Version=2011-06-15",
    service: "sts",
  },
];

function received(url: URL, method: string, headers: Record<string, string>, body: Uint8Array) {
  const lower: Record<string, string> = { host: url.host };
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return { method, path: url.pathname + url.search, headers: lower, body };
}

describe("Signer vs aws4", () => {
  for (const hasher of HASHERS) {
    for (const c of CASES) {
      it(`${c.name} (${hasher})`, async () => {
        const creds = c.creds ?? CREDS;
        const region = c.region ?? "us-east-1";
        const service = c.service ?? "kinesis";
        const url = new URL(c.url);
        const signer = new Signer({ service, region, hasher });
        const headers = { "content-type": "application/x-amz-json-1.1", ...c.headers };
        const signed = await signer.sign(
          { method: "POST", url, headers, body: c.body },
          creds,
          DATE,
        );
        assert.equal(signed["x-amz-date"], amzDate(DATE));
        assert.equal("host" in signed, false, "host is signed, not returned");
        assert.equal("x-amz-content-sha256" in signed, false);
        if (creds.sessionToken) assert.equal(signed["x-amz-security-token"], creds.sessionToken);
        const auth = signed.authorization;
        const m = /Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
        assert.ok(m, auth);
        assert.equal(m[1], `${creds.accessKeyId}/20260314/${region}/${service}/aws4_request`);
        const signedHeaders = m[2].split(";");
        assert.ok(signedHeaders.includes("host"));
        if (creds.sessionToken) assert.ok(signedHeaders.includes("x-amz-security-token"));
        const body = typeof c.body === "string" ? enc.encode(c.body) : c.body ?? new Uint8Array(0);
        const req = received(url, "POST", signed, body);
        const expected = aws4Signature(
          req,
          { ...creds },
          { region, service },
          signedHeaders,
          amzDate(DATE),
        );
        assert.equal(m[3], expected);
        // And the verifier the proxy uses agrees.
        assert.deepEqual(verifySigV4(req, [{ ...creds }], { now: DATE, region, service }), {
          ok: true,
          accessKeyId: creds.accessKeyId,
        });
      });
    }
  }

  it("all hashers produce the identical header set", async () => {
    const url = new URL(CASES[0].url);
    const outs = await Promise.all(
      HASHERS.map((hasher) =>
        new Signer({ service: "kinesis", region: "us-east-1", hasher }).sign(
          {
            method: "POST",
            url,
            headers: { "content-type": "application/x-amz-cbor-1.1" },
            body: bigBody,
          },
          SESSION,
          DATE,
        )
      ),
    );
    assert.deepEqual(outs[1], outs[0]);
    assert.deepEqual(outs[2], outs[0]);
  });

  it("the verifier rejects a wrong secret, a stale date and a missing token", async () => {
    const url = new URL("https://kinesis.us-east-1.amazonaws.com/");
    const body = enc.encode("{}");
    const signer = new Signer({ service: "kinesis", region: "us-east-1" });
    const good = received(
      url,
      "POST",
      await signer.sign({ method: "POST", url, headers: {}, body }, SESSION, DATE),
      body,
    );
    const wrong = verifySigV4(good, [{ ...SESSION, secretAccessKey: "other" }], { now: DATE });
    assert.equal(wrong.ok, false);
    assert.equal(!wrong.ok && wrong.code, "InvalidSignatureException");
    const late = verifySigV4(good, [{ ...SESSION }], {
      now: new Date(DATE.getTime() + 16 * 60_000),
    });
    assert.match(
      !late.ok ? late.message : "",
      /^Signature expired: 20260314T150926Z is now earlier than/,
    );
    const early = verifySigV4(good, [{ ...SESSION }], {
      now: new Date(DATE.getTime() - 16 * 60_000),
    });
    assert.match(!early.ok ? early.message : "", /^Signature not yet current/);
    const tokenless = { ...good, headers: { ...good.headers } };
    delete (tokenless.headers as Record<string, string>)["x-amz-security-token"];
    const noToken = verifySigV4(tokenless, [{ ...SESSION }], { now: DATE });
    assert.equal(!noToken.ok && noToken.code, "UnrecognizedClientException");
    const tampered = verifySigV4({ ...good, body: enc.encode("{ }") }, [{ ...SESSION }], {
      now: DATE,
    });
    assert.equal(!tampered.ok && tampered.code, "InvalidSignatureException");
    const unknown = verifySigV4(good, () => undefined, { now: DATE });
    assert.equal(!unknown.ok && unknown.code, "UnrecognizedClientException");
    assert.equal(
      verifySigV4(
        good,
        (id) => (id === SESSION.accessKeyId ? SESSION.secretAccessKey : undefined),
        { now: DATE },
      ).ok,
      true,
    );
    const wrongRegion = verifySigV4(good, [{ ...SESSION }], { now: DATE, region: "eu-west-1" });
    assert.equal(wrongRegion.ok, false);
  });
});

// `auto` is NodeSha256 wherever node:crypto exists, so Workers' AutoSha256 is
// handed to smithy's SignatureV4 here, configured as Signer configures it.
describe("AutoSha256 signatures vs aws4", () => {
  const url = new URL("https://kinesis.us-east-1.amazonaws.com/");
  const region = "us-east-1";
  const service = "kinesis";
  for (const size of [0, 52, WEBCRYPTO_MIN_BYTES - 1, WEBCRYPTO_MIN_BYTES, 70_000]) {
    it(`${size}-byte body`, async () => {
      const body = bigBody.slice(0, size);
      const headers = { "content-type": "application/x-amz-cbor-1.1" };
      const sigv4 = new SignatureV4({
        service,
        region,
        credentials: SESSION,
        sha256: AutoSha256,
        applyChecksum: false,
      });
      const signed = await sigv4.sign({
        method: "POST",
        protocol: url.protocol,
        hostname: url.hostname,
        path: url.pathname,
        query: {},
        headers: { ...headers, host: url.host },
        body,
      }, { signingDate: DATE });
      const out = signed.headers as Record<string, string>;
      const m = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(out.authorization);
      assert.ok(m, out.authorization);
      const req = received(url, "POST", out, body);
      const expected = aws4Signature(
        req,
        { ...SESSION },
        { region, service },
        m[1].split(";"),
        amzDate(DATE),
      );
      assert.equal(m[2], expected);
      const js = await new Signer({ service, region, hasher: "js" })
        .sign({ method: "POST", url, headers, body }, SESSION, DATE);
      assert.equal(out.authorization, js.authorization);
    });
  }
});
