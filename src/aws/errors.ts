/**
 * Typed Kinesis errors and their classification.
 *
 * Classification is plain data (code lists) plus small pure predicates, in the
 * smithy retry style, so the producer can decide on backoff from
 * `error.kind` / `error.retryable` without string matching of its own.
 * @module
 */

/**
 * What a failure means for the caller.
 *
 * - `throttling`: retry with a larger backoff.
 * - `transient`: retry with backoff (5xx, network errors, timeouts).
 * - `expired-credentials`: refresh credentials, then retry.
 * - `clock-skew`: correct the clock offset, then retry.
 * - `fatal`: do not retry; the request or configuration is wrong.
 */
export type KinesisErrorKind =
  | "throttling"
  | "transient"
  | "expired-credentials"
  | "clock-skew"
  | "fatal";

/**
 * Throttling codes. Beyond the two Kinesis data-plane throttles, this follows
 * smithy's list: Kinesis answers control-plane calls (ListShards,
 * DescribeStreamSummary: 10 or 100 TPS) over their rate with
 * `LimitExceededException`, and an HTTP 429 or `ThrottlingException` can come from
 * a gateway in front of it. `LimitExceededException` is also what an over-quota
 * CreateStream returns; retrying that wastes a few calls, while treating a rate
 * limit as fatal would drop data, so throttling wins.
 */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  "ProvisionedThroughputExceededException",
  "KMSThrottlingException",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "LimitExceededException",
  "SlowDown",
]);

/** Codes of server-side or connection failures worth retrying. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "InternalFailure",
  "InternalServerError",
  "InternalError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "NetworkError",
  "TimeoutError",
]);

/** HTTP statuses retried whatever the code (smithy's list is 500, 502, 503, 504; every 5xx here). */
export function isTransientStatus(status: number): boolean {
  return status >= 500 && status <= 599;
}

/** Codes meaning the session token has expired: refresh, then retry. */
export const EXPIRED_CREDENTIALS_CODES: ReadonlySet<string> = new Set([
  "ExpiredTokenException",
  "ExpiredToken",
  "TokenRefreshRequired",
]);

/** Codes that always mean the request time is outside the server's window. */
export const CLOCK_SKEW_CODES: ReadonlySet<string> = new Set([
  "RequestExpired",
  "RequestInTheFuture",
  "RequestTimeTooSkewed",
]);

/**
 * Codes that mean clock skew only with a matching message: a wrong secret also
 * gives `InvalidSignatureException`, and that one is fatal.
 */
export const SIGNATURE_CODES: ReadonlySet<string> = new Set([
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "AuthFailure",
]);

/** Messages Kinesis uses for a request date outside the 15-minute window. */
export const CLOCK_SKEW_MESSAGE: RegExp =
  /signature expired|signature not yet current|request (?:has )?expired|too skewed/i;

/** True for a throttling code or HTTP 429. */
export function isThrottling(code: string, status = 0): boolean {
  return THROTTLING_CODES.has(code) || status === 429;
}

/** True for a code or status worth retrying after a backoff (not throttling). */
export function isTransient(code: string, status = 0): boolean {
  return TRANSIENT_CODES.has(code) || isTransientStatus(status);
}

/** True for an expired session token. */
export function isExpiredCredentials(code: string): boolean {
  return EXPIRED_CREDENTIALS_CODES.has(code);
}

/** True when the error says the signing date is off. */
export function isClockSkew(code: string, message = ""): boolean {
  return CLOCK_SKEW_CODES.has(code) ||
    (SIGNATURE_CODES.has(code) && CLOCK_SKEW_MESSAGE.test(message));
}

/** The result of {@link classifyError}. */
export interface Classification {
  /** What the failure means. */
  kind: KinesisErrorKind;
  /** Whether a retry (after the action `kind` calls for) can succeed. */
  retryable: boolean;
}

/**
 * Classifies an AWS error code, HTTP status and message. Order matters: a named
 * code beats the status (a `ProvisionedThroughputExceededException` is a 400),
 * and anything unrecognised is fatal unless its status is 5xx or 429.
 *
 * @example
 * ```ts
 * import { classifyError } from "@kpl/kinesis-producer/aws";
 * classifyError("ProvisionedThroughputExceededException", 400); // { kind: "throttling", retryable: true }
 * ```
 */
export function classifyError(code: string, status = 0, message = ""): Classification {
  if (isThrottling(code, status)) return { kind: "throttling", retryable: true };
  if (isExpiredCredentials(code)) return { kind: "expired-credentials", retryable: true };
  if (isClockSkew(code, message)) return { kind: "clock-skew", retryable: true };
  if (isTransient(code, status)) return { kind: "transient", retryable: true };
  return { kind: "fatal", retryable: false };
}

/** Fields for constructing a {@link KinesisError}. */
export interface KinesisErrorInit {
  /** AWS error code, or `NetworkError`, `TimeoutError`, `AbortError`, `InvalidResponse`, `MissingRegion`, … */
  code: string;
  /** Human-readable message; it is redacted and truncated by the constructor. */
  message: string;
  /**
   * HTTP status, or 0 when no response came.
   * @default {0}
   */
  status?: number;
  /** The `x-amzn-RequestId` response header. */
  requestId?: string;
  /** API action, for example `"PutRecord"`. */
  action?: string;
  /** Overrides the classification of `code`/`status`/`message`. */
  kind?: KinesisErrorKind;
  /** The underlying error. */
  cause?: unknown;
  /** Strings to scrub from the message (the secret key, session token, signature). */
  secrets?: readonly string[];
}

const MAX_MESSAGE = 512;

/**
 * Removes anything that may be a credential from `text`: the given secrets,
 * `Signature=` values, `Authorization`/`x-amz-security-token` header lines (AWS
 * echoes the canonical request in some signature errors), and long hex runs.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  }
  return out
    .replace(/(Signature=)[0-9a-fA-F]+/g, "$1[redacted]")
    .replace(/((?:authorization|x-amz-security-token)\s*[:=]\s*)[^\n'"]*/gi, "$1[redacted]")
    .replace(/\b[0-9a-f]{64}\b/g, "[redacted]");
}

/**
 * Response metadata in the AWS SDK v3's shape (`error.$metadata`), so error
 * handling ported from SDK code keeps working.
 */
export interface ResponseMetadata {
  /** HTTP status; absent when no response came. */
  httpStatusCode?: number;
  /** The `x-amzn-RequestId` response header, when there was one. */
  requestId?: string;
  /** Attempts made for the call (the producer counts its retries of a chunk here). */
  attempts: number;
  /** Milliseconds spent waiting between those attempts, when the producer retried. */
  totalRetryDelay: number;
}

/** Local codes with no AWS counterpart: their errors keep the name `"KinesisError"`. */
const LOCAL_CODES: ReadonlySet<string> = new Set([
  "NetworkError",
  "InvalidResponse",
  "MissingRegion",
  "CredentialsError",
  "SigningError",
]);

/** True unless `code` is one of ours: a local failure, or `Http<status>` for a response without a code. */
export function hasAwsCode(code: string): boolean {
  return !LOCAL_CODES.has(code) && !/^Http\d+$/.test(code);
}

/**
 * A failed Kinesis call. `kind` and `retryable` tell the caller what to do;
 * the message never holds a secret key, session token or signature.
 *
 * It also has the fields AWS SDK v3 code checks: `name` is the AWS error code
 * (`"ProvisionedThroughputExceededException"`, `"ResourceNotFoundException"`,
 * …, and the SDK's `"TimeoutError"`/`"AbortError"`), `$metadata` holds
 * `httpStatusCode`, `requestId` and `attempts`, `$fault` is `"client"` or
 * `"server"`, and `$retryable` is set for retryable errors. Errors without an
 * AWS code (a network failure, an unreadable response, missing region or
 * credentials) are named `"KinesisError"`; `instanceof KinesisError` holds for all.
 *
 * @example Handling ported from SDK code
 * ```ts
 * import { KinesisError } from "@kpl/kinesis-producer";
 * const error: unknown = new KinesisError({
 *   code: "ResourceNotFoundException",
 *   message: "Stream logs not found",
 *   status: 400,
 *   requestId: "c0ffee",
 * });
 * if (error instanceof Error && error.name === "ResourceNotFoundException") {
 *   const { httpStatusCode, requestId } = (error as KinesisError).$metadata;
 *   if (httpStatusCode !== 400 || requestId !== "c0ffee") throw new Error("unexpected");
 * }
 * ```
 */
export class KinesisError extends Error {
  /** The AWS error code, or `"KinesisError"` for local failures without one. */
  override readonly name: string;
  /** AWS error code (`ProvisionedThroughputExceededException`, …) or a local one (`NetworkError`, `TimeoutError`, `AbortError`, `InvalidResponse`, `MissingRegion`). */
  readonly code: string;
  /** HTTP status, 0 when no response came. */
  readonly status: number;
  /** The AWS request id, when the response had one. */
  readonly requestId?: string;
  /** API action that failed, when known. */
  readonly action?: string;
  /** What the failure means. */
  readonly kind: KinesisErrorKind;
  /** Whether retrying (after what `kind` calls for) can succeed. */
  readonly retryable: boolean;
  /** SDK v3's response metadata. `attempts` and `totalRetryDelay` are updated by the producer. */
  readonly $metadata: ResponseMetadata;
  /** SDK v3's fault side: `"server"` for 5xx and server-side codes, else `"client"`. */
  readonly $fault: "client" | "server";
  /** SDK v3's retry hint: present when retryable, `throttling` true for throttles. */
  readonly $retryable?: { throttling?: boolean };

  /** Builds the error, classifying `code`/`status`/`message` unless `kind` is given. */
  constructor(init: KinesisErrorInit) {
    const status = init.status ?? 0;
    let message = redact(init.message, init.secrets);
    if (message.length > MAX_MESSAGE) message = message.slice(0, MAX_MESSAGE) + "…";
    const prefix = init.action ? `${init.action}: ` : "";
    super(
      `${prefix}${init.code}: ${message}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = hasAwsCode(init.code) ? init.code : "KinesisError";
    this.code = init.code;
    this.status = status;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    if (init.action !== undefined) this.action = init.action;
    const classified = classifyError(init.code, status, init.message);
    this.kind = init.kind ?? classified.kind;
    this.retryable = this.kind !== "fatal";
    const metadata: ResponseMetadata = { attempts: 1, totalRetryDelay: 0 };
    if (status > 0) metadata.httpStatusCode = status;
    if (init.requestId !== undefined) metadata.requestId = init.requestId;
    this.$metadata = metadata;
    this.$fault = isTransient(init.code, status) ? "server" : "client";
    if (this.retryable) this.$retryable = { throttling: this.kind === "throttling" };
  }
}

/** True when `error` is a {@link KinesisError} that is worth retrying. */
export function isRetryable(error: unknown): boolean {
  return error instanceof KinesisError && error.retryable;
}
