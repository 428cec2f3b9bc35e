import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeXmlEntities, parseXml, XmlError, xmlText } from "../../src/aws/credentials/xml.ts";
import { readStsResponse } from "../../src/aws/credentials/sts.ts";
import { StsError } from "../../src/aws/credentials/errors.ts";
import { errorXml, successXml } from "../support/fake_sts.ts";

describe("xml", () => {
  it("reads nested text, ignoring namespaces, attributes, comments and the declaration", () => {
    const root = parseXml(`\uFEFF<?xml version="1.0" encoding="UTF-8"?>
      <!-- a comment with <tags> -->
      <ns:A xmlns:ns="urn:x" attr='1 > 0'><ns:B><C>one</C><C>two</C></ns:B><D/></ns:A>`);
    assert.equal(root.name, "A");
    assert.equal(xmlText(root, "B", "C"), "one");
    assert.equal(root.children[0].children.length, 2);
    assert.equal(xmlText(root, "D"), "");
    assert.equal(xmlText(root, "Missing"), undefined);
  });

  it("decodes the predefined entities and numeric references, and leaves others alone", () => {
    assert.equal(
      decodeXmlEntities("&lt;a&gt; &amp;amp; &quot;&apos; &#65;&#x42;&#x1F600;"),
      `<a> &amp; "' AB😀`,
    );
    assert.equal(
      decodeXmlEntities("&nbsp; &#0; &#xD800; &#x110000; & alone"),
      "&nbsp; &#0; &#xD800; &#x110000; & alone",
    );
    assert.equal(xmlText(parseXml("<a>x&#x2F;y+z&#61;</a>")), "x/y+z=");
  });

  it("includes CDATA verbatim", () => {
    assert.equal(xmlText(parseXml("<a><![CDATA[<not a tag> &amp;]]></a>")), "<not a tag> &amp;");
  });

  it("skips a DOCTYPE and never expands declared entities", () => {
    const root = parseXml(
      `<!DOCTYPE a [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>`,
    );
    assert.equal(xmlText(root), "&lol2;");
  });

  it("rejects junk with XmlError", () => {
    for (
      const junk of [
        "",
        "not xml",
        "<a>",
        "<a></b>",
        "<a/><b/>",
        "text<a/>",
        "<a><b></a>",
        "</a>",
        "<a",
        "<1a/>",
      ]
    ) {
      assert.throws(() => parseXml(junk), XmlError, JSON.stringify(junk));
    }
    assert.throws(() => parseXml("<a>".repeat(100) + "</a>".repeat(100)), /nesting deeper/);
    assert.throws(() => parseXml(`<a>${"x".repeat(100)}</a>`, { maxLength: 50 }), /too long/);
  });
});

describe("readStsResponse", () => {
  const creds = {
    accessKeyId: "ASIAEXAMPLE",
    secretAccessKey: "wJalr/K7MDENG+bPxRfiCY&<>",
    sessionToken: "FwoGZXIvYXdzE//token=",
    expiration: new Date("2030-01-02T03:04:05Z"),
  };

  it("reads AssumeRole credentials, entities decoded", () => {
    const c = readStsResponse("AssumeRole", 200, successXml("AssumeRole", creds));
    assert.equal(c.accessKeyId, creds.accessKeyId);
    assert.equal(c.secretAccessKey, creds.secretAccessKey);
    assert.equal(c.sessionToken, creds.sessionToken);
    assert.equal(c.expiration?.toISOString(), "2030-01-02T03:04:05.000Z");
  });

  it("reads AssumeRoleWithWebIdentity credentials", () => {
    const c = readStsResponse(
      "AssumeRoleWithWebIdentity",
      200,
      successXml("AssumeRoleWithWebIdentity", creds),
    );
    assert.equal(c.accessKeyId, creds.accessKeyId);
  });

  it("turns an ErrorResponse into an StsError with code, status, request id and retryability", () => {
    const e = assert.throws(
      () =>
        readStsResponse(
          "AssumeRole",
          403,
          errorXml("AccessDenied", "User: arn:aws:iam::1:user/u is not authorized", "rid-7"),
        ),
      (error: unknown) => {
        assert.ok(error instanceof StsError);
        assert.equal(error.name, "StsError");
        assert.equal(error.code, "AccessDenied");
        assert.equal(error.status, 403);
        assert.equal(error.requestId, "rid-7");
        assert.equal(error.retryable, false);
        assert.match(error.message, /AccessDenied.*not authorized/);
        return true;
      },
    );
    void e;
    assert.throws(
      () => readStsResponse("AssumeRole", 400, errorXml("Throttling", "Rate exceeded")),
      (error: StsError) => error.retryable,
    );
    assert.throws(
      () =>
        readStsResponse(
          "AssumeRole",
          503,
          errorXml("ServiceUnavailable", "later", "r", "Receiver"),
        ),
      (error: StsError) => error.retryable && error.status === 503,
    );
  });

  it("treats an ErrorResponse even with status 200 as an error", () => {
    assert.throws(() => readStsResponse("AssumeRole", 200, errorXml("ExpiredToken", "expired")), {
      code: "ExpiredToken",
    });
  });

  it("reports junk clearly, using the request id header", () => {
    assert.throws(
      () => readStsResponse("AssumeRole", 200, "<html><body>captive portal</body></html>", "hdr-1"),
      (error: StsError) =>
        error.code === "InvalidResponse" && !error.retryable && error.requestId === "hdr-1" &&
        /<html>/.test(error.message),
    );
    assert.throws(
      () => readStsResponse("AssumeRole", 200, "{}"),
      (error: StsError) => error.code === "InvalidResponse" && /not XML/.test(error.message),
    );
    assert.throws(
      () => readStsResponse("AssumeRole", 502, "<html>Bad gateway</html"),
      (error: StsError) => error.code === "Http502" && error.retryable,
    );
    assert.throws(
      () => readStsResponse("AssumeRole", 500, ""),
      (error: StsError) => error.code === "Http500" && error.retryable,
    );
  });

  it("names missing fields", () => {
    const xml = successXml("AssumeRole", creds).replace(/<SessionToken>.*<\/SessionToken>/, "")
      .replace("2030-01-02T03:04:05.000Z", "soon");
    assert.throws(
      () => readStsResponse("AssumeRole", 200, xml),
      /lacks SessionToken, Expiration \(not a date\)/,
    );
  });
});
