/**
 * STS over fetch: AssumeRole (SigV4-signed, the seed's `role_arn` +
 * `external_id`) and AssumeRoleWithWebIdentity (unsigned). Responses are read
 * with the DOM-free extractor in `xml.ts`, so this runs in Workers too.
 *
 * Both providers are cached by `cache.ts`. Pass them the same `fetch` as the
 * Kinesis client, so a proxy applies to STS as well.
 * @module
 */
import { describeRedirect, isRedirect, NO_REDIRECTS } from "../redirect.ts";
import { type DebugSink, debugSink } from "../debug.ts";
import { isClockSkew, redact } from "../errors.ts";
import { serverTimeFromMessage } from "../clock_skew.ts";
import { Signer } from "../signer.ts";
import type { AwsCredentials, CredentialProvider, FetchLike } from "../types.ts";
import { cachedProvider } from "./cache.ts";
import { type EnvReader, envReader, regionFromEnv } from "./env.ts";
import { StsError } from "./errors.ts";
import { safeCredentials } from "./safe.ts";
import { parseXml, xmlChild, type XmlElement, xmlText } from "./xml.ts";

/** The STS Query API version. */
export const STS_VERSION = "2011-06-15";

/** Options shared by the STS providers. */
export interface StsClientOptions {
  /**
   * Region whose STS endpoint is called and signed for.
   * @default {regionFromEnv(env) ?? "us-east-1"}
   */
  region?: string;
  /**
   * STS endpoint URL, for example a loopback emulator.
   * @default {env AWS_ENDPOINT_URL_STS ?? env AWS_ENDPOINT_URL ?? `https://sts.${region}.amazonaws.com` (`.amazonaws.com.cn` in China)}
   */
  stsEndpoint?: string;
  /**
   * The `fetch` to call STS with: pass the proxied one from `proxyFetch`.
   * @default {globalThis.fetch}
   */
  fetch?: FetchLike;
  /**
   * Log each STS call (`true`: to `console.error`), or receive the events.
   * @default {undefined}
   */
  debug?: boolean | DebugSink;
  /**
   * Timeout per STS request, in milliseconds.
   * @default {10000}
   */
  timeoutMs?: number;
  /**
   * Attempts per refresh, for throttling, 5xx, network errors and timeouts.
   * @default {3}
   */
  maxAttempts?: number;
  /**
   * Refresh this long before the temporary credentials expire.
   * @default {300000}
   */
  refreshAheadMs?: number;
  /**
   * Where `AWS_REGION` and the endpoint overrides are read from.
   * @default {getEnv}
   */
  env?: EnvReader;
}

/** Options for {@link fromAssumeRole}. */
export interface AssumeRoleOptions extends StsClientOptions {
  /** The role to assume (the seed's `role_arn`). */
  roleArn: string;
  /**
   * The external id the role's trust policy requires (the seed's `external_id`).
   * @default {undefined}
   */
  externalId?: string;
  /**
   * Session name, shown in CloudTrail.
   * @default {`kinesis-kpl-${Date.now()}`}
   */
  roleSessionName?: string;
  /**
   * Session length in seconds, 900 to 43200.
   * @default {3600}
   */
  durationSeconds?: number;
  /**
   * An inline session policy (JSON) that narrows the role's permissions.
   * @default {undefined}
   */
  policy?: string;
  /** Credentials that sign the AssumeRole call. */
  source: CredentialProvider;
}

/** Options for {@link fromWebIdentity}. */
export interface WebIdentityOptions extends StsClientOptions {
  /** The role to assume. */
  roleArn: string;
  /** The OIDC token, or a function that reads a fresh one per refresh (tokens rotate). */
  webIdentityToken: string | (() => Promise<string>);
  /**
   * Session name, shown in CloudTrail.
   * @default {`kinesis-kpl-${Date.now()}`}
   */
  roleSessionName?: string;
  /**
   * Session length in seconds, 900 to 43200.
   * @default {3600}
   */
  durationSeconds?: number;
  /**
   * An inline session policy (JSON).
   * @default {undefined}
   */
  policy?: string;
}

/**
 * The STS endpoint for `region`: an override from `AWS_ENDPOINT_URL_STS` or
 * `AWS_ENDPOINT_URL`, else the regional one.
 *
 * @example
 * ```ts
 * import { stsEndpointFor } from "@kpl/kinesis-producer/aws";
 * console.log(stsEndpointFor("cn-north-1", () => undefined)); // https://sts.cn-north-1.amazonaws.com.cn
 * ```
 */
export function stsEndpointFor(region: string, env?: EnvReader): string {
  const read = envReader(env);
  const override = read("AWS_ENDPOINT_URL_STS") ?? read("AWS_ENDPOINT_URL");
  if (override) return override;
  const suffix = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://sts.${region}.${suffix}`;
}

// smithy's list plus STS's own transient codes.
const RETRYABLE_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestThrottled",
  "IDPCommunicationError",
  "InternalFailure",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeout",
  "RequestTimeoutException",
]);

/** Whether an STS error with this code and HTTP status is worth retrying. */
export function isRetryableSts(code: string, status: number): boolean {
  return status >= 500 || status === 429 || RETRYABLE_CODES.has(code);
}

/** Replaces every occurrence of each secret in `text` with `[REDACTED]`. */
function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[REDACTED]");
  }
  // STS echoes the canonical request in signature errors: signatures and tokens go too.
  return redact(out);
}

/**
 * Reads an STS response for `action` (`"AssumeRole"`,
 * `"AssumeRoleWithWebIdentity"`): the credentials of a success, or an
 * {@link StsError} for an `ErrorResponse` or an unreadable body.
 *
 * @example
 * ```ts
 * import { readStsResponse } from "@kpl/kinesis-producer/aws";
 * const xml = `<AssumeRoleResponse><AssumeRoleResult><Credentials>
 *   <AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>s</SecretAccessKey>
 *   <SessionToken>t</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>
 * </Credentials></AssumeRoleResult></AssumeRoleResponse>`;
 * console.log(readStsResponse("AssumeRole", 200, xml).accessKeyId); // ASIAX
 * ```
 * @throws {StsError} for an error response (with its code, message and request id) or a body that is not the expected XML (`InvalidResponse`).
 */
export function readStsResponse(
  action: string,
  status: number,
  body: string,
  requestIdHeader?: string,
): AwsCredentials {
  let root: XmlElement | undefined;
  let parseError: unknown;
  try {
    root = parseXml(body);
  } catch (error) {
    parseError = error;
  }
  const requestId =
    (root && (xmlText(root, "RequestId") ?? xmlText(root, "ResponseMetadata", "RequestId"))) ||
    requestIdHeader || undefined;
  const ok = status >= 200 && status < 300;
  const errorElement = root && (root.name === "Error" ? root : xmlChild(root, "Error"));
  if (!ok || root?.name === "ErrorResponse" || root?.name === "Error") {
    const code = (errorElement && xmlText(errorElement, "Code")) || `Http${status}`;
    const detail = redact(
      (errorElement && xmlText(errorElement, "Message")) || (root ? "" : "no error document"),
    );
    return throwSts(
      code,
      `STS ${action} failed: ${code} (HTTP ${status})${detail ? `: ${detail}` : ""}`,
      {
        status,
        requestId,
        retryable: isRetryableSts(code, status),
        cause: parseError,
      },
    );
  }
  if (!root || root.name !== `${action}Response`) {
    return throwSts(
      "InvalidResponse",
      `STS ${action} returned HTTP ${status} with ${
        root ? `<${root.name}>` : "a body that is not XML"
      }, not <${action}Response>`,
      {
        status,
        requestId,
        retryable: false,
        cause: parseError,
      },
    );
  }
  const at = [`${action}Result`, "Credentials"];
  const accessKeyId = xmlText(root, ...at, "AccessKeyId");
  const secretAccessKey = xmlText(root, ...at, "SecretAccessKey");
  const sessionToken = xmlText(root, ...at, "SessionToken");
  const expiration = xmlText(root, ...at, "Expiration");
  const missing = Object.entries({
    AccessKeyId: accessKeyId,
    SecretAccessKey: secretAccessKey,
    SessionToken: sessionToken,
    Expiration: expiration,
  })
    .filter(([, value]) => !value).map(([name]) => name);
  const expires = expiration ? new Date(expiration) : undefined;
  if (expires && !Number.isFinite(expires.getTime())) missing.push("Expiration (not a date)");
  if (missing.length > 0) {
    return throwSts("InvalidResponse", `STS ${action} response lacks ${missing.join(", ")}`, {
      status,
      requestId,
      retryable: false,
    });
  }
  return safeCredentials({
    accessKeyId: accessKeyId!,
    secretAccessKey: secretAccessKey!,
    sessionToken,
    expiration: expires,
  }, `STS ${action}`);
}

function throwSts(
  code: string,
  message: string,
  options: ConstructorParameters<typeof StsError>[2],
): never {
  throw new StsError(code, message, options);
}

/** Full-jitter exponential backoff for STS retries, in milliseconds (smithy's shape, capped at 2 s). */
export function stsBackoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.min(2000, 100 * 2 ** attempt) * random();
}

interface StsCall {
  action: string;
  params: Record<string, string | undefined>;
  /** Signing credentials; `undefined` sends the call unsigned. */
  credentials?: CredentialProvider;
  /** Secrets that must never reach an error message. */
  secrets: readonly (string | undefined)[];
}

/** Applies the shared options once and returns a function that performs one STS call with retries. */
function stsClient(options: StsClientOptions): (call: StsCall) => Promise<AwsCredentials> {
  const env = envReader(options.env);
  const {
    region = regionFromEnv(env) ?? "us-east-1",
    fetch = (input, init) => globalThis.fetch(input, init),
    timeoutMs = 10_000,
    maxAttempts = 3,
  } = options;
  if (!/^[a-z0-9-]+$/.test(region)) {
    throw new TypeError(`Cannot call STS in region "${region.slice(0, 40)}": not a region name`);
  }
  if (!(maxAttempts >= 1)) {
    throw new RangeError(`Cannot call STS with maxAttempts ${maxAttempts}: it must be >= 1`);
  }
  const endpoint = new URL(options.stsEndpoint ?? stsEndpointFor(region, env));
  if (endpoint.protocol !== "https:" && endpoint.protocol !== "http:") {
    throw new TypeError(
      `Cannot call STS at ${endpoint.protocol}//${endpoint.host}: the protocol must be http: or https:`,
    );
  }
  const signer = new Signer({ service: "sts", region });
  const sink = debugSink(options.debug);
  // Learnt from a clock-skew answer (its Date header, else the time its message
  // quotes) and added to the local clock when signing, as for Kinesis calls.
  let clockOffsetMs = 0;
  let serverTime: number | undefined;

  async function once(
    call: StsCall,
    retry: number,
    credentials: AwsCredentials | undefined,
  ): Promise<AwsCredentials> {
    const form = new URLSearchParams({ Action: call.action, Version: STS_VERSION });
    for (const [name, value] of Object.entries(call.params)) {
      if (value !== undefined) form.set(name, value);
    }
    const body = form.toString();
    let headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    };
    if (credentials) {
      headers = await signer.sign(
        { method: "POST", url: endpoint, headers, body },
        credentials,
        new Date(Date.now() + clockOffsetMs),
      );
    }
    const started = performance.now();
    let status = 0;
    let requestId: string | undefined;
    let errorCode: string | undefined;
    try {
      let response: Response;
      let text: string;
      try {
        response = await fetch(endpoint.href, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: NO_REDIRECTS,
        });
        status = response.status;
        requestId = response.headers.get("x-amzn-requestid") ?? undefined;
        const date = Date.parse(response.headers.get("date") ?? "");
        serverTime = Number.isFinite(date) ? date : undefined;
        if (isRedirect(response)) await response.body?.cancel().catch(() => {});
        else text = await response.text();
      } catch (error) {
        const timedOut = (error as Error)?.name === "TimeoutError";
        const code = timedOut ? "TimeoutError" : "NetworkError";
        const what = timedOut
          ? `timed out after ${timeoutMs} ms`
          : `could not reach ${endpoint.origin}`;
        throw new StsError(code, `STS ${call.action} ${what}`, {
          status,
          requestId,
          retryable: true,
          cause: error,
        });
      }
      if (isRedirect(response)) {
        throw new StsError("Redirect", `STS ${call.action} failed: ${describeRedirect(response)}`, {
          status,
          requestId,
          retryable: false,
        });
      }
      return readStsResponse(call.action, status, text!, requestId);
    } catch (error) {
      if (error instanceof StsError) {
        errorCode = error.code;
        requestId = error.requestId;
        error.message = scrub(error.message, [
          ...call.secrets,
          credentials?.secretAccessKey,
          credentials?.sessionToken,
        ]);
      }
      throw error;
    } finally {
      sink?.({
        service: "sts",
        action: call.action,
        status,
        durationMs: performance.now() - started,
        requestId,
        retry,
        error: errorCode,
        bytes: body.length,
      });
    }
  }

  return async (call) => {
    let credentials = await call.credentials?.();
    let refreshedSource = false;
    let skewRetried = false;
    for (let attempt = 0;; attempt++) {
      serverTime = undefined;
      try {
        return await once(call, attempt, credentials);
      } catch (error) {
        // A signing date outside the server's window: correct the clock, retry once at once.
        if (
          error instanceof StsError && credentials && !skewRetried &&
          isClockSkew(error.code, error.message)
        ) {
          const now = serverTime ?? serverTimeFromMessage(error.message);
          if (now !== undefined) {
            skewRetried = true;
            clockOffsetMs = now - Date.now();
            attempt--;
            continue;
          }
        }
        if (!(error instanceof StsError) || attempt + 1 >= maxAttempts) throw error;
        // The source credentials expired between our cache check and STS: get new ones once.
        if (/^ExpiredToken(Exception)?$/.test(error.code) && call.credentials && !refreshedSource) {
          refreshedSource = true;
          credentials = await call.credentials({ forceRefresh: true });
          continue;
        }
        if (!error.retryable) throw error;
        await new Promise((resolve) => setTimeout(resolve, stsBackoffMs(attempt)));
      }
    }
  };
}

function sessionParams(roleSessionName: string | undefined, durationSeconds: number): {
  RoleSessionName: string;
  DurationSeconds: string;
} {
  const name = roleSessionName ?? `kinesis-kpl-${Date.now()}`;
  if (!/^[\w+=,.@-]{2,64}$/.test(name)) {
    throw new TypeError(
      `Cannot use role session name "${
        name.slice(0, 64)
      }": it must be 2-64 characters of letters, digits and +=,.@_-`,
    );
  }
  if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43200) {
    throw new RangeError(
      `Cannot assume a role for ${durationSeconds} seconds: durationSeconds must be an integer from 900 to 43200`,
    );
  }
  return { RoleSessionName: name, DurationSeconds: String(durationSeconds) };
}

function requireRoleArn(roleArn: string): void {
  if (typeof roleArn !== "string" || !roleArn.startsWith("arn:")) {
    throw new TypeError(
      `Cannot assume role "${String(roleArn).slice(0, 80)}": roleArn must be a role ARN (arn:…)`,
    );
  }
}

/**
 * A provider that assumes `roleArn` with STS AssumeRole, signing with
 * `source`, and caches the temporary credentials until shortly before they
 * expire.
 *
 * @example Assume a role with an external id
 * ```ts ignore
 * import { fromAssumeRole } from "@kpl/kinesis-producer/aws";
 * import { fromEnv } from "@kpl/kinesis-producer/aws";
 * const provider = fromAssumeRole({
 *   roleArn: "arn:aws:iam::123456789012:role/producer",
 *   externalId: "shared-secret-id",
 *   source: fromEnv(),
 * });
 * const creds = await provider();
 * ```
 * @throws {TypeError} at once for a malformed role ARN, session name, region or endpoint.
 * @throws {RangeError} at once for a duration outside 900..43200 or `maxAttempts` < 1.
 */
export function fromAssumeRole(options: AssumeRoleOptions): CredentialProvider {
  const {
    roleArn,
    externalId,
    roleSessionName,
    durationSeconds = 3600,
    policy,
    source,
    refreshAheadMs,
  } = options;
  requireRoleArn(roleArn);
  if (typeof source !== "function") {
    throw new TypeError("Cannot assume a role without source credentials: pass `source`");
  }
  const session = sessionParams(roleSessionName, durationSeconds);
  const call = stsClient(options);
  return cachedProvider(() =>
    call({
      action: "AssumeRole",
      params: { RoleArn: roleArn, ...session, ExternalId: externalId, Policy: policy },
      credentials: source,
      secrets: [],
    }), { refreshAheadMs });
}

/**
 * A provider that exchanges an OIDC token for credentials with STS
 * AssumeRoleWithWebIdentity (an unsigned call), cached like
 * {@link fromAssumeRole}.
 *
 * @example
 * ```ts ignore
 * import { fromWebIdentity } from "@kpl/kinesis-producer/aws";
 * const provider = fromWebIdentity({
 *   roleArn: "arn:aws:iam::123456789012:role/producer",
 *   webIdentityToken: () => Deno.readTextFile("/var/run/token"),
 * });
 * ```
 * @throws {TypeError} at once for a malformed role ARN, session name, region or endpoint.
 */
export function fromWebIdentity(options: WebIdentityOptions): CredentialProvider {
  const {
    roleArn,
    webIdentityToken,
    roleSessionName,
    durationSeconds = 3600,
    policy,
    refreshAheadMs,
  } = options;
  requireRoleArn(roleArn);
  const session = sessionParams(roleSessionName, durationSeconds);
  const call = stsClient(options);
  return cachedProvider(async () => {
    const token = typeof webIdentityToken === "function"
      ? (await webIdentityToken()).trim()
      : webIdentityToken;
    return call({
      action: "AssumeRoleWithWebIdentity",
      params: { RoleArn: roleArn, ...session, WebIdentityToken: token, Policy: policy },
      secrets: [token],
    });
  }, { refreshAheadMs });
}
