import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromEnv, regionFromEnv } from "../../src/aws/credentials/env.ts";
import { fromStatic } from "../../src/aws/credentials/static.ts";
import type { CredentialsError } from "../../src/aws/credentials/errors.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

describe("fromStatic", () => {
  it("returns the given credentials", async () => {
    const c = await fromStatic({ accessKeyId: "AKID", secretAccessKey: "s", sessionToken: "t" })();
    assert.deepEqual([c.accessKeyId, c.secretAccessKey, c.sessionToken], ["AKID", "s", "t"]);
  });
  it("rejects missing keys at once, with InvalidCredentials", () => {
    assert.throws(() => fromStatic({ accessKeyId: "", secretAccessKey: "s" }), {
      name: "CredentialsError",
      code: "InvalidCredentials",
    });
    assert.throws(
      () => fromStatic({ accessKeyId: "AKID", secretAccessKey: undefined as unknown as string }),
      /secret access key is missing/,
    );
  });
});

describe("fromEnv", () => {
  it("reads the key pair, session token and expiration", async () => {
    const c = await fromEnv({
      env: envOf({
        AWS_ACCESS_KEY_ID: "AKIDENV",
        AWS_SECRET_ACCESS_KEY: "env-secret",
        AWS_SESSION_TOKEN: "env-token",
        AWS_CREDENTIAL_EXPIRATION: "2031-05-06T07:08:09Z",
      }),
    })();
    assert.equal(c.accessKeyId, "AKIDENV");
    assert.equal(c.secretAccessKey, "env-secret");
    assert.equal(c.sessionToken, "env-token");
    assert.equal(c.expiration?.toISOString(), "2031-05-06T07:08:09.000Z");
  });

  it("says which variable is missing (empty counts as unset)", async () => {
    await assert.rejects(
      fromEnv({ env: envOf({ AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "" }) })(),
      (e: CredentialsError) => {
        assert.equal(e.code, "CredentialsUnavailable");
        assert.equal(e.message, "environment: AWS_SECRET_ACCESS_KEY not set");
        return true;
      },
    );
  });

  it("rejects an unparsable expiration", async () => {
    await assert.rejects(
      fromEnv({
        env: envOf({
          AWS_ACCESS_KEY_ID: "A",
          AWS_SECRET_ACCESS_KEY: "s",
          AWS_CREDENTIAL_EXPIRATION: "tomorrow",
        }),
      })(),
      { code: "InvalidCredentials" },
    );
  });

  it("reads the process environment by default", async () => {
    const process = (globalThis as { process?: { env: Record<string, string | undefined> } })
      .process!;
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = "AKIDPROC";
    process.env.AWS_SECRET_ACCESS_KEY = "proc-secret";
    try {
      assert.equal((await fromEnv()()).accessKeyId, "AKIDPROC");
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });
});

describe("regionFromEnv", () => {
  it("prefers AWS_REGION over AWS_DEFAULT_REGION", () => {
    assert.equal(
      regionFromEnv(envOf({ AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "us-east-2" })),
      "eu-west-1",
    );
    assert.equal(regionFromEnv(envOf({ AWS_DEFAULT_REGION: "us-east-2" })), "us-east-2");
    assert.equal(regionFromEnv(envOf({})), undefined);
  });
});
