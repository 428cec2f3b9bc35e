/**
 * Credentials and region from environment variables, wherever the runtime has
 * an environment. In Workers pass `env` explicitly (bindings, secrets).
 * @module
 */
import { getEnv } from "../../runtime/env.ts";
import type { CredentialProvider } from "../types.ts";
import { unavailable } from "./errors.ts";
import { parseExpiration, safeCredentials } from "./safe.ts";

/** Reads one variable; `undefined` (or `""`) means unset. */
export type EnvReader = (name: string) => string | undefined;

/** Wraps an {@link EnvReader} so empty strings count as unset, like {@link getEnv}. */
export function envReader(env: EnvReader | undefined): EnvReader {
  if (!env) return getEnv;
  return (name) => {
    const value = env(name);
    return value === "" ? undefined : value;
  };
}

/** Options for {@link fromEnv}. */
export interface EnvCredentialsOptions {
  /**
   * Where variables come from; pass one built from Worker bindings there.
   * @default {getEnv}
   */
  env?: EnvReader;
}

const SOURCE = "environment";

/**
 * Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and
 * optionally `AWS_SESSION_TOKEN` and `AWS_CREDENTIAL_EXPIRATION`. Reads the
 * variables on every call, so a forced refresh sees new values.
 *
 * @example From the process environment
 * ```ts
 * import { fromEnv } from "@kpl/kinesis-producer/aws";
 * const provider = fromEnv({ env: (name) => ({ AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "s" })[name] });
 * console.log((await provider()).accessKeyId); // AKID
 * ```
 * @throws {import("./errors.ts").CredentialsError} `CredentialsUnavailable` when the key id or secret is unset.
 */
export function fromEnv(options: EnvCredentialsOptions = {}): CredentialProvider {
  const env = envReader(options.env);
  return () => {
    try {
      const accessKeyId = env("AWS_ACCESS_KEY_ID");
      const secretAccessKey = env("AWS_SECRET_ACCESS_KEY");
      if (!accessKeyId || !secretAccessKey) {
        const missing = [
          !accessKeyId && "AWS_ACCESS_KEY_ID",
          !secretAccessKey && "AWS_SECRET_ACCESS_KEY",
        ].filter(Boolean);
        return Promise.reject(unavailable(SOURCE, `${missing.join(" and ")} not set`));
      }
      const expires = env("AWS_CREDENTIAL_EXPIRATION");
      return Promise.resolve(safeCredentials({
        accessKeyId,
        secretAccessKey,
        sessionToken: env("AWS_SESSION_TOKEN"),
        expiration: expires ? parseExpiration(expires, SOURCE) : undefined,
      }, SOURCE));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * The region from `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `undefined`.
 *
 * @example
 * ```ts
 * import { regionFromEnv } from "@kpl/kinesis-producer/aws";
 * console.log(regionFromEnv((name) => name === "AWS_REGION" ? "eu-west-1" : undefined)); // eu-west-1
 * ```
 */
export function regionFromEnv(env?: EnvReader): string | undefined {
  const read = envReader(env);
  return read("AWS_REGION") ?? read("AWS_DEFAULT_REGION");
}
