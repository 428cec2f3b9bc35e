/**
 * No secret reaches an output. For each case, every channel: stdout, stderr,
 * the `--json` summary, `--debug` lines, dead-letter lines, thrown and
 * reported errors, and their `inspect()` forms.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { after, before, describe, it } from "node:test";
import { formatDebugEvent } from "../../src/aws/debug.ts";
import { fromAssumeRole } from "../../src/aws/credentials/sts.ts";
import { fromStatic } from "../../src/aws/credentials/static.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type { DeliveryFailure } from "../../src/producer/options.ts";
import { errorXml, type FakeSts, startFakeSts } from "../support/fake_sts.ts";
import { type ForwardProxy, startForwardProxy } from "../support/forward_proxy.ts";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { runShip, type ShipResult, tempDir } from "./run_ship.ts";

// A proxy password with every character that ends a URL's authority early.
const PROXY_PASSWORD = "pa/ss#w?rd@9";
const PROXY_USER = "shipper";
const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";
const SESSION_TOKEN = "IQoJb3JpZ2luX2VjSESSIONTOKENxyz0123456789";

/** Every printed form of a value that a user may log. */
function printed(value: unknown): string {
  const forms = [String(value), inspect(value, { depth: 8 })];
  try {
    forms.push(JSON.stringify(value) ?? "");
  } catch {
    // circular: inspect covers it
  }
  const cause = (value as { cause?: unknown })?.cause;
  if (cause) forms.push(inspect(cause, { depth: 8 }));
  return forms.join("\n");
}

function assertClean(text: string, secrets: string[], where: string): void {
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `${where} shows a secret (${secret.slice(0, 6)}…):\n${text}`);
  }
}

/** The outputs of one CLI run, dead-letter file included. */
function channels(r: ShipResult, deadLetter?: string): Record<string, string> {
  return {
    stdout: r.stdout,
    stderr: r.stderr,
    deadLetters: deadLetter && existsSync(deadLetter) ? readFileSync(deadLetter, "utf8") : "",
  };
}

describe("secrets never reach an output", () => {
  let sink: Sink;
  let proxy: ForwardProxy;
  let sts: FakeSts;
  let signatures: string[];
  before(async () => {
    // The first call fails, so there are dead letters to check too.
    sink = await startSink({
      fault: (n) => (n === 0 ? { status: 400, type: "ValidationException" } : undefined),
    });
    proxy = await startForwardProxy({ auth: `${PROXY_USER}:${PROXY_PASSWORD}` });
    signatures = [];
    sts = await startFakeSts({
      known: [],
      // STS echoes the canonical request, signature and token included.
      reply: (record) => {
        const auth = String(record.headers.authorization ?? "");
        const sig = /Signature=([0-9a-f]+)/.exec(auth)?.[1];
        if (sig) signatures.push(sig);
        return {
          status: 403,
          body: errorXml(
            "SignatureDoesNotMatch",
            `The request signature we calculated does not match. Canonical request: POST / ` +
              `x-amz-security-token:${
                record.headers["x-amz-security-token"]
              } Authorization: ${auth} Signature=${sig}`,
          ),
        };
      },
    });
  });
  after(async () => {
    await sink.close();
    await proxy.close();
    await sts.close();
  });

  it("a proxy URL whose password has unencoded / # ? @ (--http-proxy): exit 2, nothing shown", async () => {
    // Unencoded, the URL parser would read host "shipper" and port "pa": a parse failure.
    const raw = `http://${PROXY_USER}:${PROXY_PASSWORD}@:99999`;
    const r = await runShip([
      "--endpoint",
      sink.endpoint,
      "--stream-name",
      "s",
      "--http-proxy",
      raw,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: Cannot use --http-proxy "?http:\/\/shipper:\*\*\*@:99999/);
    for (const [name, text] of Object.entries(channels(r))) {
      assertClean(text, [PROXY_PASSWORD, "pa/ss", "w?rd"], name);
    }
  });

  it("the same password in HTTPS_PROXY / HTTP_PROXY works, and shows nowhere", async () => {
    const dl = join(tempDir(), "dl.ndjson");
    const url = `http://${PROXY_USER}:${PROXY_PASSWORD}@${proxy.url.replace("http://", "")}`;
    const r = await runShip(
      ["--endpoint", sink.endpoint, "--stream-name", "s", "--json", "--debug", "--dead-letter", dl],
      {
        env: { HTTP_PROXY: url, https_proxy: url, NO_PROXY: "example.invalid" },
        stdin: "one\ntwo\n",
      },
    );
    assert.equal(r.code, 1, r.stderr); // the first call fails: dead letters
    assert.ok(
      proxy.records.some((p) => p.target.startsWith(sink.endpoint)),
      "went through the proxy",
    );
    assert.ok(existsSync(dl));
    assert.match(r.stderr, /kinesis\.PutRecord/, "debug lines were printed");
    for (const [name, text] of Object.entries(channels(r, dl))) {
      assertClean(text, [PROXY_PASSWORD, "pa/ss", btoa(`${PROXY_USER}:${PROXY_PASSWORD}`)], name);
    }
    // NO_PROXY sends a target direct.
    const before = proxy.records.length;
    const direct = await runShip(["--endpoint", sink.endpoint, "--stream-name", "s"], {
      env: { HTTP_PROXY: url, NO_PROXY: "localhost,127.0.0.1" },
      stdin: "three\n",
    });
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(proxy.records.length, before);
  });

  it("a bad proxy URL in the library: onFailure's error and its inspect() hide the password", async () => {
    const failures: DeliveryFailure[] = [];
    const debug: string[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      region: "us-east-1",
      endpoint: sink.endpoint,
      credentials: fromStatic({ accessKeyId: "AKIDTEST", secretAccessKey: SECRET_KEY }),
      httpProxy: `http://${PROXY_USER}:${PROXY_PASSWORD}@:99999`,
      maxAttempts: 1,
      debug: (e) => debug.push(formatDebugEvent(e)),
      onFailure: (f) => failures.push(f),
    });
    await producer.put("x");
    await producer.close().catch((error) => failures.push({ error } as DeliveryFailure));
    assert.ok(failures.length > 0);
    for (const f of failures) assertClean(printed(f.error), [PROXY_PASSWORD, "pa/ss"], "error");
    assertClean(debug.join("\n"), [PROXY_PASSWORD, "pa/ss"], "debug events");
    assertClean(
      inspect(producer, { depth: 8 }),
      [PROXY_PASSWORD, "pa/ss", SECRET_KEY],
      "inspect(producer)",
    );
  });

  it("an STS error body echoing the signature and token: CLI exit 2 and errors hide both", async () => {
    signatures.length = 0;
    const r = await runShip(
      [
        "--endpoint",
        sink.endpoint,
        "--stream-name",
        "s",
        "--role-arn",
        "arn:aws:iam::123456789012:role/shipper",
        "--debug",
        "--json",
      ],
      {
        env: {
          AWS_ACCESS_KEY_ID: "ASIASTSTEST",
          AWS_SECRET_ACCESS_KEY: SECRET_KEY,
          AWS_SESSION_TOKEN: SESSION_TOKEN,
          AWS_ENDPOINT_URL_STS: sts.url,
        },
      },
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /SignatureDoesNotMatch/);
    assert.ok(signatures.length > 0, "STS saw a signed request");
    for (const [name, text] of Object.entries(channels(r))) {
      assertClean(text, [SECRET_KEY, SESSION_TOKEN, ...signatures], name);
    }

    signatures.length = 0;
    const debug: string[] = [];
    const provider = fromAssumeRole({
      roleArn: "arn:aws:iam::123456789012:role/shipper",
      source: fromStatic({
        accessKeyId: "ASIASTSTEST",
        secretAccessKey: SECRET_KEY,
        sessionToken: SESSION_TOKEN,
      }),
      region: "us-east-1",
      stsEndpoint: sts.url,
      maxAttempts: 1,
      debug: (e) => debug.push(formatDebugEvent(e)),
    });
    const error = await provider().then(() => undefined, (e) => e);
    assert.ok(error instanceof Error);
    assert.ok(signatures.length > 0);
    assertClean(printed(error), [SECRET_KEY, SESSION_TOKEN, ...signatures], "StsError");
    assertClean(debug.join("\n"), [SECRET_KEY, SESSION_TOKEN, ...signatures], "debug events");
  });
});
