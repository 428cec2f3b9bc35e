/**
 * Fixed credentials: the seed's `aws_key_id` / `aws_sec_key`.
 * @module
 */
import type { AwsCredentials, CredentialProvider } from "../types.ts";
import { safeCredentials } from "./safe.ts";

/** Options for {@link fromStatic}. */
export interface StaticCredentialsOptions {
  /** Access key id. */
  accessKeyId: string;
  /** Secret access key. */
  secretAccessKey: string;
  /**
   * Session token, for temporary credentials.
   * @default {undefined}
   */
  sessionToken?: string;
  /**
   * When temporary credentials expire.
   * @default {undefined}
   */
  expiration?: Date;
}

/**
 * A provider that always returns the given credentials.
 *
 * @example Static keys
 * ```ts
 * import { fromStatic } from "@kpl/kinesis-producer/aws";
 * const provider = fromStatic({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" });
 * const creds = await provider();
 * console.log(creds.accessKeyId); // AKIDEXAMPLE
 * ```
 * @throws {import("./errors.ts").CredentialsError} `InvalidCredentials` at once when a key is missing.
 */
export function fromStatic(options: StaticCredentialsOptions): CredentialProvider {
  const credentials: AwsCredentials = safeCredentials(options, "static credentials");
  return () => Promise.resolve(credentials);
}
