/**
 * Web identity from a token file (EKS IRSA and similar):
 * `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`)
 * → STS AssumeRoleWithWebIdentity. The file is re-read on every refresh,
 * because the token in it rotates.
 * @module
 */
import type { CredentialProvider } from "../types.ts";
import { envReader } from "./env.ts";
import { CredentialsError, unavailable } from "./errors.ts";
import { fileSystem } from "./runtime.ts";
import { fromWebIdentity, type StsClientOptions } from "./sts.ts";

/** Options for {@link fromTokenFile}. */
export interface TokenFileOptions extends StsClientOptions {
  /**
   * Path of the OIDC token file.
   * @default {env AWS_WEB_IDENTITY_TOKEN_FILE}
   */
  webIdentityTokenFile?: string;
  /**
   * The role to assume.
   * @default {env AWS_ROLE_ARN}
   */
  roleArn?: string;
  /**
   * Session name.
   * @default {env AWS_ROLE_SESSION_NAME, else `kinesis-kpl-${Date.now()}`}
   */
  roleSessionName?: string;
  /**
   * Session length in seconds, 900 to 43200.
   * @default {3600}
   */
  durationSeconds?: number;
}

const SOURCE = "web identity";

/**
 * A provider that reads a web identity token file and assumes a role with it.
 * Configuration is read at the first call, so building it costs nothing.
 *
 * @example
 * ```ts ignore
 * import { fromTokenFile } from "@kpl/kinesis-producer/aws";
 * const creds = await fromTokenFile()(); // with AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN set
 * ```
 * @throws {CredentialsError} `CredentialsUnavailable` when the variables are unset or there is no file system; `InvalidConfiguration` when the token file cannot be read.
 */
export function fromTokenFile(options: TokenFileOptions = {}): CredentialProvider {
  const env = envReader(options.env);
  let inner: CredentialProvider | undefined;
  return (opts) => {
    if (!inner) {
      try {
        inner = build();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return inner(opts);
  };

  function build(): CredentialProvider {
    const tokenFile = options.webIdentityTokenFile ?? env("AWS_WEB_IDENTITY_TOKEN_FILE");
    const roleArn = options.roleArn ?? env("AWS_ROLE_ARN");
    if (!tokenFile || !roleArn) {
      const missing = [!tokenFile && "AWS_WEB_IDENTITY_TOKEN_FILE", !roleArn && "AWS_ROLE_ARN"]
        .filter(Boolean);
      throw unavailable(SOURCE, `${missing.join(" and ")} not set`);
    }
    const files = fileSystem();
    if (!files) {
      throw unavailable(SOURCE, "this runtime has no file system to read the token file from");
    }
    return fromWebIdentity({
      ...options,
      roleArn,
      roleSessionName: options.roleSessionName ?? env("AWS_ROLE_SESSION_NAME"),
      webIdentityToken: async () => {
        try {
          return await files.fs.readFile(tokenFile, "utf8");
        } catch (cause) {
          throw new CredentialsError(
            "InvalidConfiguration",
            `${SOURCE}: cannot read the token file ${tokenFile}`,
            { source: SOURCE, cause },
          );
        }
      },
    });
  }
}
