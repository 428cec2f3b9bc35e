/**
 * Shapes shared by the AWS side: credentials and their providers.
 * @module
 */

/** A set of AWS credentials. The secret and token are never logged. */
export interface AwsCredentials {
  /** Access key id (`AKIA…` or `ASIA…`). */
  readonly accessKeyId: string;
  /** Secret access key. */
  readonly secretAccessKey: string;
  /** Session token, for temporary credentials. */
  readonly sessionToken?: string;
  /** When temporary credentials expire. */
  readonly expiration?: Date;
}

/**
 * Resolves credentials. Providers cache and refresh on their own; callers may
 * call this before every request. `forceRefresh` asks for new credentials (for
 * example after `ExpiredTokenException`).
 */
export type CredentialProvider = (options?: { forceRefresh?: boolean }) => Promise<AwsCredentials>;

/** The `fetch` signature this library calls; inject one for proxies or tests. */
export type FetchLike = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
