/**
 * Typed errors for credential resolution and STS. Messages and fields never
 * carry a secret key, session token or web identity token.
 * @module
 */

/**
 * Why credentials could not be had:
 * - `CredentialsUnavailable`: this source does not apply here (not configured,
 *   or its runtime feature is missing); a chain moves on to the next source.
 * - `CredentialsNotFound`: no source in a chain applied.
 * - `InvalidCredentials`: a source applied but held unusable values.
 * - `CredentialsFetchFailed`: a source applied but fetching from it failed.
 * - `InvalidConfiguration`: a source is configured wrongly (bad URL, profile loop).
 */
export type CredentialsErrorCode =
  | "CredentialsUnavailable"
  | "CredentialsNotFound"
  | "InvalidCredentials"
  | "CredentialsFetchFailed"
  | "InvalidConfiguration";

/** One source a chain looked at, and why it did not yield credentials. */
export interface CredentialsAttempt {
  /** The source, for example `"environment"` or `"EC2 instance metadata"`. */
  readonly source: string;
  /** Why it did not apply. */
  readonly reason: string;
}

/** Options for {@link CredentialsError}. */
export interface CredentialsErrorOptions {
  /** The source that failed, when one did. */
  source?: string;
  /** What a chain tried, in order. */
  tried?: readonly CredentialsAttempt[];
  /**
   * Whether trying again may help.
   * @default {false}
   */
  retryable?: boolean;
  /** The underlying error. */
  cause?: unknown;
}

/** Credentials could not be resolved. */
export class CredentialsError extends Error {
  /** What went wrong, as data. */
  readonly code: CredentialsErrorCode;
  /** The source that failed, when one did. */
  readonly source?: string;
  /** What a chain tried, in order (for `CredentialsNotFound`). */
  readonly tried: readonly CredentialsAttempt[];
  /** Whether trying again may help. */
  readonly retryable: boolean;

  /** Creates the error; `message` must not contain a secret. */
  constructor(code: CredentialsErrorCode, message: string, options: CredentialsErrorOptions = {}) {
    const { source, tried = [], retryable = false, cause } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.name = "CredentialsError";
    this.code = code;
    this.source = source;
    this.tried = tried;
    this.retryable = retryable;
  }
}

/** Shorthand for a {@link CredentialsError} saying `source` does not apply, and why. */
export function unavailable(source: string, reason: string): CredentialsError {
  return new CredentialsError("CredentialsUnavailable", `${source}: ${reason}`, {
    source,
    tried: [{ source, reason }],
  });
}

/** True when `error` says a source does not apply, so a chain may try the next one. */
export function isUnavailable(error: unknown): error is CredentialsError {
  return error instanceof CredentialsError && error.code === "CredentialsUnavailable";
}

/** Options for {@link StsError}. */
export interface StsErrorOptions {
  /** HTTP status; 0 when no response came. */
  status: number;
  /** The STS request id, when the response had one. */
  requestId?: string;
  /** Whether trying again may help. */
  retryable: boolean;
  /** The underlying error (network failure, parse error). */
  cause?: unknown;
}

/** An STS call failed: an `ErrorResponse` from STS, a network error, a timeout or an unreadable response. */
export class StsError extends Error {
  /**
   * The STS error code (for example `AccessDenied`, `ExpiredToken`,
   * `RegionDisabledException`), or `NetworkError`, `TimeoutError`,
   * `InvalidResponse` when STS did not answer usefully.
   */
  readonly code: string;
  /** HTTP status; 0 when no response came. */
  readonly status: number;
  /** The STS request id, when the response had one. */
  readonly requestId?: string;
  /** Whether trying again may help. */
  readonly retryable: boolean;

  /** Creates the error; `message` must not contain a secret. */
  constructor(code: string, message: string, options: StsErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StsError";
    this.code = code;
    this.status = options.status;
    this.requestId = options.requestId;
    this.retryable = options.retryable;
  }
}
