/** Failures of the credential chain name every source; the region also comes from the profile. */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { chainProviders } from "../../src/aws/credentials/chain.ts";
import { CredentialsError, unavailable } from "../../src/aws/credentials/errors.ts";
import { regionFromProfile } from "../../src/aws/credentials/profile_region.ts";

describe("credential chain failures", () => {
  it("a source that fails still names the sources before it and why each did not apply", async () => {
    const chain = chainProviders([
      {
        name: "environment",
        provider: () => Promise.reject(unavailable("environment", "AWS_ACCESS_KEY_ID is not set")),
      },
      {
        name: "shared files",
        provider: () => Promise.reject(unavailable("shared files", 'profile "default" not found')),
      },
      {
        name: "EC2 instance metadata",
        provider: () =>
          Promise.reject(
            new CredentialsError(
              "CredentialsFetchFailed",
              "cannot list the instance role: HTTP 403",
              {
                source: "EC2 instance metadata",
              },
            ),
          ),
      },
    ]);
    await assert.rejects(chain(), (e: unknown) => {
      assert.ok(e instanceof CredentialsError);
      assert.equal(e.code, "CredentialsFetchFailed");
      assert.match(
        e.message,
        /HTTP 403 \(from EC2 instance metadata; before it: 1\) environment: AWS_ACCESS_KEY_ID is not set; 2\) shared files: profile "default" not found\)/,
      );
      assert.deepEqual(e.tried.map((t) => t.source), [
        "environment",
        "shared files",
        "EC2 instance metadata",
      ]);
      assert.ok(e.cause instanceof CredentialsError);
      return true;
    });
  });
});

describe("regionFromProfile", () => {
  it("reads the profile's region from the config file", async () => {
    const home = mkdtempSync(join(tmpdir(), "region-"));
    mkdirSync(join(home, ".aws"));
    writeFileSync(
      join(home, ".aws", "config"),
      "[default]\nregion = eu-west-1\n\n[profile prod]\nregion = ap-south-1\n",
    );
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    assert.equal(await regionFromProfile({ env: env({ HOME: home }) }), "eu-west-1");
    assert.equal(
      await regionFromProfile({ env: env({ HOME: home, AWS_PROFILE: "prod" }) }),
      "ap-south-1",
    );
    assert.equal(
      await regionFromProfile({ env: env({ HOME: home, AWS_PROFILE: "none" }) }),
      undefined,
    );
    assert.equal(await regionFromProfile({ env: env({ HOME: join(home, "nowhere") }) }), undefined);
  });
});
