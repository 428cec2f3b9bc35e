import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromSharedFiles } from "../../src/aws/credentials/shared_files.ts";
import { fromTokenFile } from "../../src/aws/credentials/web_identity.ts";
import { fromContainer } from "../../src/aws/credentials/container.ts";
import { fromInstanceMetadata, imdsEndpoint } from "../../src/aws/credentials/imds.ts";
import { parseIni } from "../../src/aws/credentials/ini.ts";
import type { CredentialsError } from "../../src/aws/credentials/errors.ts";
import { type FakeSts, startFakeSts } from "../support/fake_sts.ts";
import { listenLoopback } from "../support/http.ts";

const dir = mkdtempSync(join(tmpdir(), "kpl-creds-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
after(() => rmSync(dir, { recursive: true, force: true }));
const envOf = (vars: Record<string, string | undefined>) => (name: string) => vars[name];

const CREDENTIALS = `# comment
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default-secret ; inline comment

[base]
aws_access_key_id=AKIABASE
aws_secret_access_key=base/secret+x=
aws_session_token = base-token

[both]
aws_access_key_id = AKIAFROMCREDS
aws_secret_access_key = creds-wins
`;
const CONFIG = `[default]
region = eu-west-1

[profile both]
aws_access_key_id = AKIAFROMCONFIG
aws_secret_access_key = config-loses
region = eu-west-1

[profile cfgonly]
aws_access_key_id = AKIACONFIG
aws_secret_access_key = config-secret
s3 =
  max_concurrent_requests = 20

[profile regiononly]
region = us-east-2

[profile sso]
sso_session = corp

[sso-session corp]
sso_start_url = https://example.invalid/start
`;

describe("INI", () => {
  it("parses sections, comments and nested keys", () => {
    const ini = parseIni(CONFIG);
    assert.equal(ini["profile cfgonly"].aws_access_key_id, "AKIACONFIG");
    assert.equal(ini["profile cfgonly"].max_concurrent_requests, undefined);
    assert.equal(parseIni(CREDENTIALS).default.aws_secret_access_key, "default-secret");
  });
});

describe("fromSharedFiles", () => {
  const credentialsFile = file("credentials", CREDENTIALS);
  const configFile = file("config", CONFIG);
  const files = { AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: configFile };

  it("reads the default profile, and AWS_PROFILE picks another", async () => {
    assert.equal((await fromSharedFiles({ env: envOf(files) })()).accessKeyId, "AKIADEFAULT");
    const base = await fromSharedFiles({ env: envOf({ ...files, AWS_PROFILE: "base" }) })();
    assert.deepEqual([base.accessKeyId, base.secretAccessKey, base.sessionToken], [
      "AKIABASE",
      "base/secret+x=",
      "base-token",
    ]);
  });

  it("reads [profile x] from config, and the credentials file wins over config", async () => {
    assert.equal(
      (await fromSharedFiles({ profile: "cfgonly", env: envOf(files) })()).accessKeyId,
      "AKIACONFIG",
    );
    const both = await fromSharedFiles({ profile: "both", env: envOf(files) })();
    assert.equal(both.secretAccessKey, "creds-wins");
  });

  it("finds ~/.aws via HOME when no path variables are set", async () => {
    const home = mkdtempSync(join(dir, "home-"));
    writeFileSync(join(home, "credentials-unused"), "");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(home, ".aws"));
    writeFileSync(
      join(home, ".aws", "credentials"),
      "[default]\naws_access_key_id=AKIAHOME\naws_secret_access_key=h\n",
    );
    assert.equal((await fromSharedFiles({ env: envOf({ HOME: home }) })()).accessKeyId, "AKIAHOME");
    assert.equal(
      (await fromSharedFiles({
        env: envOf({ HOME: home, AWS_SHARED_CREDENTIALS_FILE: "~/.aws/credentials" }),
      })()).accessKeyId,
      "AKIAHOME",
    );
  });

  it("reports unavailable, and why, for missing profiles, files and keys", async () => {
    await assert.rejects(
      fromSharedFiles({ profile: "nope", env: envOf(files) })(),
      (e: CredentialsError) => {
        assert.equal(e.code, "CredentialsUnavailable");
        assert.match(
          e.message,
          /profile "nope" not found \(looked in \S*credentials; \S*config\)/,
        );
        return true;
      },
    );
    await assert.rejects(
      fromSharedFiles({
        env: envOf({
          AWS_SHARED_CREDENTIALS_FILE: join(dir, "missing1"),
          AWS_CONFIG_FILE: join(dir, "missing2"),
        }),
      })(),
      /neither \S*missing1 nor \S*missing2 exists/,
    );
    await assert.rejects(
      fromSharedFiles({ profile: "regiononly", env: envOf(files) })(),
      /has no aws_access_key_id/,
    );
    await assert.rejects(
      fromSharedFiles({ profile: "sso", env: envOf(files) })(),
      /uses sso_session, which this library does not support/,
    );
  });

  describe("role profiles", () => {
    let sts: FakeSts;
    before(async () => {
      sts = await startFakeSts({
        known: [{
          accessKeyId: "AKIABASE",
          secretAccessKey: "base/secret+x=",
          sessionToken: "base-token",
        }, {
          accessKeyId: "AKIAENVSRC",
          secretAccessKey: "env-src-secret",
        }],
        region: "eu-central-1",
      });
    });
    after(() => sts.close());

    it("assumes role_arn with source_profile and external_id, signed by the source profile's keys", async () => {
      const config = file(
        "config-role",
        `[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\nexternal_id = ext-42\nrole_session_name = from-profile\nregion = eu-central-1\nduration_seconds = 1800\n`,
      );
      const creds = await fromSharedFiles({
        profile: "deploy",
        env: envOf({
          AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
          AWS_CONFIG_FILE: config,
          AWS_ENDPOINT_URL_STS: sts.url,
        }),
      })();
      const req = sts.requests.at(-1)!;
      assert.deepEqual(req.verified, { ok: true, accessKeyId: "AKIABASE" });
      assert.equal(req.params.ExternalId, "ext-42");
      assert.equal(req.params.RoleSessionName, "from-profile");
      assert.equal(req.params.DurationSeconds, "1800");
      assert.equal(creds.accessKeyId, sts.issued.at(-1)!.accessKeyId);
    });

    it("credential_source = Environment signs with the environment's keys", async () => {
      const config = file(
        "config-envsrc",
        `[default]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\n`,
      );
      await fromSharedFiles({
        env: envOf({
          AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
          AWS_CONFIG_FILE: config,
          AWS_ENDPOINT_URL_STS: sts.url,
          AWS_REGION: "eu-central-1",
          AWS_ACCESS_KEY_ID: "AKIAENVSRC",
          AWS_SECRET_ACCESS_KEY: "env-src-secret",
        }),
      })();
      assert.deepEqual(sts.requests.at(-1)!.verified, { ok: true, accessKeyId: "AKIAENVSRC" });
    });

    it("rejects source_profile loops and role profiles without a source", async () => {
      const config = file(
        "config-loop",
        `[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n[profile lonely]\nrole_arn = arn:aws:iam::1:role/c\n`,
      );
      const env = envOf({
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
        AWS_CONFIG_FILE: config,
      });
      await assert.rejects(fromSharedFiles({ profile: "a", env })(), {
        code: "InvalidConfiguration",
        message: /loop a -> b -> a/,
      });
      await assert.rejects(
        fromSharedFiles({ profile: "lonely", env })(),
        /needs source_profile, credential_source or web_identity_token_file/,
      );
    });
  });
});

describe("fromTokenFile (web identity)", () => {
  it("reads the token file and role from the environment and calls AssumeRoleWithWebIdentity", async () => {
    const sts = await startFakeSts({ known: [], webIdentityToken: "eyJ.token.sig" });
    try {
      const tokenFile = file("token", "eyJ.token.sig\n");
      const creds = await fromTokenFile({
        env: envOf({
          AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
          AWS_ROLE_ARN: "arn:aws:iam::1:role/irsa",
          AWS_ROLE_SESSION_NAME: "pod-1",
          AWS_ENDPOINT_URL_STS: sts.url,
        }),
      })();
      const req = sts.requests[0];
      assert.equal(req.action, "AssumeRoleWithWebIdentity");
      assert.deepEqual([
        req.params.RoleArn,
        req.params.RoleSessionName,
        req.params.WebIdentityToken,
      ], ["arn:aws:iam::1:role/irsa", "pod-1", "eyJ.token.sig"]);
      assert.equal(creds.accessKeyId, sts.issued[0].accessKeyId);
    } finally {
      await sts.close();
    }
  });

  it("is unavailable without its variables, and fails clearly on an unreadable file", async () => {
    await assert.rejects(
      fromTokenFile({ env: envOf({ AWS_ROLE_ARN: "arn:aws:iam::1:role/x" }) })(),
      {
        code: "CredentialsUnavailable",
        message: "web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set",
      },
    );
    await assert.rejects(
      fromTokenFile({
        env: envOf({
          AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "no-token"),
          AWS_ROLE_ARN: "arn:aws:iam::1:role/x",
          AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9",
        }),
      })(),
      { code: "InvalidConfiguration", message: /cannot read the token file/ },
    );
  });
});

describe("fromContainer", () => {
  it("GETs the full URI with the token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", async () => {
    const seen: { url?: string; auth?: string }[] = [];
    const agent = await listenLoopback((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          AccessKeyId: "ASIACONT",
          SecretAccessKey: "cont-secret",
          Token: "cont-token",
          Expiration: "2031-01-01T00:00:00Z",
        }),
      );
    });
    try {
      const tokenFile = file("ecs-token", "Bearer-ish-token\n");
      const provider = fromContainer({
        env: envOf({
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}v2/credentials/abc`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
        }),
      });
      const creds = await provider();
      assert.deepEqual([creds.accessKeyId, creds.secretAccessKey, creds.sessionToken], [
        "ASIACONT",
        "cont-secret",
        "cont-token",
      ]);
      assert.deepEqual(seen, [{ url: "/v2/credentials/abc", auth: "Bearer-ish-token" }]);
      await provider();
      assert.equal(seen.length, 1, "cached");
    } finally {
      await agent.close();
    }
  });

  it("uses AWS_CONTAINER_AUTHORIZATION_TOKEN, retries 5xx, and reports failures", async () => {
    let n = 0;
    const agent = await listenLoopback((req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(500);
        return res.end("oops");
      }
      if (req.headers.authorization !== "tok") {
        res.writeHead(401);
        return res.end();
      }
      res.end(
        JSON.stringify({
          AccessKeyId: "ASIA2",
          SecretAccessKey: "s2",
          Token: "t2",
          Expiration: "2031-01-01T00:00:00Z",
        }),
      );
    });
    try {
      const ok = await fromContainer({
        env: envOf({
          AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: "tok",
        }),
      })();
      assert.equal(ok.accessKeyId, "ASIA2");
      await assert.rejects(
        fromContainer({ env: envOf({ AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url }) })(),
        {
          code: "CredentialsFetchFailed",
          message: /HTTP 401 \(attempt 1 of 3\)/,
        },
      );
    } finally {
      await agent.close();
    }
  });

  it("builds relative URIs on 169.254.170.2 (checked through an injected fetch), refuses plain http elsewhere, and is unavailable when unset", async () => {
    const urls: string[] = [];
    const fetch = (input: Request | string | URL) => {
      urls.push(String(input));
      return Promise.resolve(
        new Response(
          JSON.stringify({
            AccessKeyId: "A",
            SecretAccessKey: "S",
            Token: "T",
            Expiration: "2031-01-01T00:00:00Z",
          }),
        ),
      );
    };
    await fromContainer({
      fetch,
      env: envOf({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/xyz" }),
    })();
    assert.deepEqual(urls, ["http://169.254.170.2/v2/credentials/xyz"]);
    await assert.rejects(
      fromContainer({
        fetch,
        env: envOf({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://example.com/creds" }),
      })(),
      {
        code: "InvalidConfiguration",
      },
    );
    await assert.rejects(fromContainer({ fetch, env: envOf({}) })(), {
      code: "CredentialsUnavailable",
    });
    assert.equal(urls.length, 1);
  });
});

describe("fromInstanceMetadata (IMDSv2)", () => {
  const ROLE_CREDS = {
    Code: "Success",
    AccessKeyId: "ASIAIMDS",
    SecretAccessKey: "imds-secret",
    Token: "imds-token",
    Expiration: "2031-01-01T00:00:00Z",
  };

  async function fakeImds(options: { v1Only?: boolean; noRole?: boolean } = {}) {
    const log: string[] = [];
    const server = await listenLoopback((req, res) => {
      log.push(`${req.method} ${req.url}`);
      if (req.method === "PUT" && req.url === "/latest/api/token") {
        if (options.v1Only) {
          res.writeHead(404);
          return res.end();
        }
        assert.equal(req.headers["x-aws-ec2-metadata-token-ttl-seconds"], "21600");
        return res.end("imds-session-token");
      }
      if (!options.v1Only && req.headers["x-aws-ec2-metadata-token"] !== "imds-session-token") {
        res.writeHead(401);
        return res.end();
      }
      if (req.url === "/latest/meta-data/iam/security-credentials/") {
        if (options.noRole) {
          res.writeHead(404);
          return res.end();
        }
        return res.end("my-role\n");
      }
      if (req.url === "/latest/meta-data/iam/security-credentials/my-role") {
        return res.end(JSON.stringify(ROLE_CREDS));
      }
      res.writeHead(404);
      res.end();
    });
    return { ...server, log };
  }

  it("gets a token, the role name, then the role's credentials, via AWS_EC2_METADATA_SERVICE_ENDPOINT", async () => {
    const imds = await fakeImds();
    try {
      const creds = await fromInstanceMetadata({
        env: envOf({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }),
      })();
      assert.deepEqual([creds.accessKeyId, creds.secretAccessKey, creds.sessionToken], [
        "ASIAIMDS",
        "imds-secret",
        "imds-token",
      ]);
      assert.deepEqual(imds.log, [
        "PUT /latest/api/token",
        "GET /latest/meta-data/iam/security-credentials/",
        "GET /latest/meta-data/iam/security-credentials/my-role",
      ]);
    } finally {
      await imds.close();
    }
  });

  it("falls back to IMDSv1 on 404 for the token unless v1 is disabled", async () => {
    const imds = await fakeImds({ v1Only: true });
    try {
      assert.equal((await fromInstanceMetadata({ endpoint: imds.url })()).accessKeyId, "ASIAIMDS");
      await assert.rejects(
        fromInstanceMetadata({
          endpoint: imds.url,
          env: envOf({ AWS_EC2_METADATA_V1_DISABLED: "true" }),
        })(),
        {
          code: "CredentialsFetchFailed",
        },
      );
    } finally {
      await imds.close();
    }
  });

  it("is unavailable when disabled, when nothing answers, or without a role", async () => {
    const fetch = () => Promise.reject(new Error("must not be called"));
    await assert.rejects(
      fromInstanceMetadata({ fetch, env: envOf({ AWS_EC2_METADATA_DISABLED: "TRUE" }) })(),
      {
        code: "CredentialsUnavailable",
        message: "EC2 instance metadata: AWS_EC2_METADATA_DISABLED=true",
      },
    );
    const closed = await listenLoopback(() => {});
    await closed.close();
    await assert.rejects(fromInstanceMetadata({ endpoint: closed.url, timeoutMs: 200 })(), {
      code: "CredentialsUnavailable",
      message: /no IMDSv2 token at http:\/\/127\.0\.0\.1:\d+: connection failed/,
    });
    const imds = await fakeImds({ noRole: true });
    try {
      await assert.rejects(fromInstanceMetadata({ endpoint: imds.url })(), {
        code: "CredentialsUnavailable",
        message: /no IAM role/,
      });
    } finally {
      await imds.close();
    }
  });

  it("times out quickly when the endpoint hangs", async () => {
    const hang = await listenLoopback(() => {});
    try {
      const started = Date.now();
      await assert.rejects(fromInstanceMetadata({ endpoint: hang.url, timeoutMs: 150 })(), {
        message: /no response within 150 ms/,
      });
      assert.ok(Date.now() - started < 2000);
    } finally {
      await hang.close();
    }
  });

  it("derives the endpoint from the environment", () => {
    assert.equal(imdsEndpoint(envOf({})), "http://169.254.169.254");
    assert.equal(
      imdsEndpoint(envOf({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" })),
      "http://[fd00:ec2::254]",
    );
    assert.equal(
      imdsEndpoint(envOf({ AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:1/" })),
      "http://127.0.0.1:1",
    );
  });
});
