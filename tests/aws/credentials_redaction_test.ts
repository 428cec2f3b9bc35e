import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { fromStatic } from "../../src/aws/credentials/static.ts";
import { safeCredentials } from "../../src/aws/credentials/safe.ts";
import { fromAssumeRole } from "../../src/aws/credentials/sts.ts";
import { CredentialsError, StsError } from "../../src/aws/credentials/errors.ts";
import { formatDebugEvent } from "../../src/aws/debug.ts";
import type { DebugEvent } from "../../src/aws/debug.ts";
import { errorXml, startFakeSts } from "../support/fake_sts.ts";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==";

function printedForms(value: unknown): string[] {
  const forms = [
    String(value),
    JSON.stringify(value),
    inspect(value),
    inspect({ nested: { value } }, { depth: 5 }),
    `${value}`,
  ];
  const deno = (globalThis as { Deno?: { inspect(v: unknown, o?: unknown): string } }).Deno;
  if (deno) forms.push(deno.inspect(value), deno.inspect([value], { depth: 5 }));
  const bun = (globalThis as { Bun?: { inspect(v: unknown): string } }).Bun;
  if (bun) forms.push(bun.inspect(value));
  return forms;
}

function assertNoSecrets(text: string, where: string): void {
  assert.ok(!text.includes(SECRET), `${where} shows the secret key: ${text}`);
  assert.ok(!text.includes(TOKEN), `${where} shows the session token: ${text}`);
}

describe("redaction", () => {
  it("credentials objects show neither secret nor token when printed, yet work", async () => {
    const creds = await fromStatic({
      accessKeyId: "AKIAREDACT",
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
    })();
    for (const form of printedForms(creds)) {
      assertNoSecrets(form, "printed credentials");
      assert.match(form, /AKIAREDACT/);
    }
    assert.equal(creds.secretAccessKey, SECRET);
    assert.equal({ ...creds }.sessionToken, TOKEN, "spreading still copies the fields");
    assert.deepEqual(JSON.parse(JSON.stringify(creds)), {
      accessKeyId: "AKIAREDACT",
      secretAccessKey: "[REDACTED]",
      sessionToken: "[REDACTED]",
    });
    assert.ok(Object.isFrozen(creds));
  });

  it("providers print nothing secret", () => {
    const provider = fromStatic({
      accessKeyId: "AKIAREDACT",
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
    });
    for (const form of [String(provider), inspect(provider)]) {
      assertNoSecrets(form, "printed provider");
    }
  });

  it("validation errors never include the values", () => {
    try {
      safeCredentials({ accessKeyId: "", secretAccessKey: SECRET, sessionToken: TOKEN });
      assert.fail("should throw");
    } catch (error) {
      assert.ok(error instanceof CredentialsError);
      for (const form of printedForms(error)) assertNoSecrets(form, "CredentialsError");
    }
  });

  it("STS errors and all debug output carry no secrets, even when STS echoes them", async () => {
    const source = { accessKeyId: "AKIASRC", secretAccessKey: SECRET, sessionToken: TOKEN };
    const sts = await startFakeSts({
      known: [source],
      reply: (
        _r,
        n,
      ) => (n === 1
        ? { status: 400, body: errorXml("ValidationError", `echo ${SECRET} ${TOKEN}`) }
        : undefined),
    });
    const events: DebugEvent[] = [];
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
    try {
      const env = () => undefined;
      const failing = fromAssumeRole({
        roleArn: "arn:aws:iam::1:role/r",
        stsEndpoint: sts.url,
        source: fromStatic(source),
        debug: true,
        env,
      });
      const error = await failing().then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof StsError);
      for (const form of printedForms(error)) assertNoSecrets(form, "StsError");
      const ok = fromAssumeRole({
        roleArn: "arn:aws:iam::1:role/r",
        stsEndpoint: sts.url,
        source: fromStatic(source),
        debug: (e) => events.push(e),
        env,
      });
      const issued = await ok();
      for (const form of printedForms(issued)) {
        assert.ok(
          !form.includes(issued.secretAccessKey) && !form.includes(issued.sessionToken!),
          form,
        );
      }
    } finally {
      console.error = original;
      await sts.close();
    }
    assert.ok(logged.length >= 1 && events.length === 1);
    const all = [...logged, ...events.map(formatDebugEvent), JSON.stringify(events)].join("\n");
    assertNoSecrets(all, "debug output");
    assert.ok(!/authorization|signature=|x-amz-security-token/i.test(all), all);
    for (const issued of sts.issued) {
      assert.ok(!all.includes(issued.secretAccessKey) && !all.includes(issued.sessionToken));
    }
  });
});
