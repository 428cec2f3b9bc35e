import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chainProviders, defaultCredentials } from "../../src/aws/credentials/chain.ts";
import { CredentialsError, unavailable } from "../../src/aws/credentials/errors.ts";
import { fromStatic } from "../../src/aws/credentials/static.ts";
import type { CredentialProvider } from "../../src/aws/types.ts";
import { startFakeSts } from "../support/fake_sts.ts";
import { listenLoopback } from "../support/http.ts";

const envOf = (vars: Record<string, string | undefined>) => (name: string) => vars[name];
/** A fetch that fails the test if anything reaches the network. */
const noNetwork = (input: Request | string | URL) =>
  Promise.reject(new Error(`unexpected fetch ${String(input)}`));

describe("defaultCredentials", () => {
  const dir = mkdtempSync(join(tmpdir(), "kpl-chain-"));
  const credentialsFile = join(dir, "credentials");
  writeFileSync(
    credentialsFile,
    "[default]\naws_access_key_id=AKIAFILE\naws_secret_access_key=file-secret\n[other]\naws_access_key_id=AKIAOTHER\naws_secret_access_key=o\n",
  );
  const isolated = {
    HOME: join(dir, "home"),
    AWS_CONFIG_FILE: join(dir, "no-config"),
    AWS_EC2_METADATA_DISABLED: "true",
  };

  it("names every source it looked at, and why each did not apply, before any network call", async () => {
    const provider = defaultCredentials({
      env: envOf({ ...isolated, AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-credentials") }),
      fetch: noNetwork,
    });
    await assert.rejects(provider(), (e: unknown) => {
      assert.ok(e instanceof CredentialsError);
      assert.equal(e.name, "CredentialsError");
      assert.equal(e.code, "CredentialsNotFound");
      assert.deepEqual(e.tried.map((t) => t.source), [
        "environment",
        "shared files",
        "web identity",
        "container",
        "EC2 instance metadata",
      ]);
      assert.match(
        e.message,
        /^No AWS credentials found\. Looked for: 1\) environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set; 2\) shared files: profile "default" not found \(neither \S*no-credentials nor \S*no-config exists\); 3\) web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not set; 4\) container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set; 5\) EC2 instance metadata: AWS_EC2_METADATA_DISABLED=true$/,
      );
      return true;
    });
  });

  it("prefers the environment over the shared files", async () => {
    const env = envOf({
      ...isolated,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_ACCESS_KEY_ID: "AKIAENV",
      AWS_SECRET_ACCESS_KEY: "e",
    });
    assert.equal((await defaultCredentials({ env, fetch: noNetwork })()).accessKeyId, "AKIAENV");
  });

  it("uses the shared files when the environment has no keys; an explicit profile skips the environment", async () => {
    const env = envOf({ ...isolated, AWS_SHARED_CREDENTIALS_FILE: credentialsFile });
    assert.equal((await defaultCredentials({ env, fetch: noNetwork })()).accessKeyId, "AKIAFILE");
    const withEnvKeys = envOf({
      ...isolated,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_ACCESS_KEY_ID: "AKIAENV",
      AWS_SECRET_ACCESS_KEY: "e",
    });
    assert.equal(
      (await defaultCredentials({ env: withEnvKeys, profile: "other", fetch: noNetwork })())
        .accessKeyId,
      "AKIAOTHER",
    );
  });

  it("falls through to web identity, then container, then IMDS", async () => {
    const sts = await startFakeSts({ known: [] });
    const token = join(dir, "token");
    writeFileSync(token, "jwt");
    const container = await listenLoopback((_req, res) =>
      res.end(
        JSON.stringify({
          AccessKeyId: "ASIACONTAINER",
          SecretAccessKey: "s",
          Token: "t",
          Expiration: "2031-01-01T00:00:00Z",
        }),
      )
    );
    const imds = await listenLoopback((req, res) => {
      if (req.method === "PUT") return res.end("tok");
      if (req.url?.endsWith("/security-credentials/")) return res.end("role");
      res.end(
        JSON.stringify({
          Code: "Success",
          AccessKeyId: "ASIAIMDS",
          SecretAccessKey: "s",
          Token: "t",
          Expiration: "2031-01-01T00:00:00Z",
        }),
      );
    });
    try {
      const base = {
        ...isolated,
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
        AWS_EC2_METADATA_DISABLED: undefined,
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
      };
      const web = {
        AWS_WEB_IDENTITY_TOKEN_FILE: token,
        AWS_ROLE_ARN: "arn:aws:iam::1:role/w",
        AWS_ENDPOINT_URL_STS: sts.url,
      };
      const cont = { AWS_CONTAINER_CREDENTIALS_FULL_URI: container.url };
      assert.equal(
        (await defaultCredentials({ env: envOf({ ...base, ...web, ...cont }) })()).accessKeyId,
        sts.issued[0].accessKeyId,
      );
      assert.equal(
        (await defaultCredentials({ env: envOf({ ...base, ...cont }) })()).accessKeyId,
        "ASIACONTAINER",
      );
      assert.equal((await defaultCredentials({ env: envOf(base) })()).accessKeyId, "ASIAIMDS");
    } finally {
      await Promise.all([sts.close(), container.close(), imds.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("chainProviders", () => {
  it("sticks with the winner, shares the first resolution, and passes forceRefresh on", async () => {
    const calls: string[] = [];
    const skip: CredentialProvider = () => {
      calls.push("skip");
      return Promise.reject(unavailable("first", "not configured"));
    };
    const win: CredentialProvider = (opts) => {
      calls.push(opts?.forceRefresh ? "win!" : "win");
      return fromStatic({ accessKeyId: "AKIAWIN", secretAccessKey: "s" })();
    };
    const chain = chainProviders([{ name: "first", provider: skip }, {
      name: "second",
      provider: win,
    }]);
    await Promise.all([chain(), chain(), chain()]);
    await chain({ forceRefresh: true });
    assert.deepEqual(calls, ["skip", "win", "win", "win", "win", "win!"]);
  });

  it("stops at a source that applies but fails, and does not remember the failure", async () => {
    let fail = true;
    const broken: CredentialProvider =
      () => (fail
        ? Promise.reject(new Error("STS said no"))
        : fromStatic({ accessKeyId: "AKIALATER", secretAccessKey: "s" })());
    const never: CredentialProvider = () => Promise.reject(new Error("must not be reached"));
    const chain = chainProviders([{ name: "broken", provider: broken }, {
      name: "never",
      provider: never,
    }]);
    await assert.rejects(chain(), /STS said no/);
    fail = false;
    assert.equal((await chain()).accessKeyId, "AKIALATER");
  });
});
