/**
 * Verifies SigV4 signatures with the independent `aws4` package: the request
 * as received (method, raw path and query, the signed headers, the body) is
 * signed again with the known secret for its access key id, and the two
 * signatures must match. Also checks the scope, the date window and the
 * session token, the way AWS does.
 *
 * Test code: it may use `node:` modules and runs under Deno, Bun and Node.
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import aws4 from "aws4";

/** One set of known credentials. */
export interface KnownCredentials {
  /** Access key id. */
  accessKeyId: string;
  /** Its secret. */
  secretAccessKey: string;
  /** When set, requests with this key must carry exactly this `x-amz-security-token`. */
  sessionToken?: string;
}

/** Known credentials: a list, or a lookup from access key id to secret. */
export type CredentialTable =
  | readonly KnownCredentials[]
  | ((accessKeyId: string) => string | undefined);

/** A request as an HTTP server received it. */
export interface ReceivedRequest {
  /** HTTP method. */
  method: string;
  /** Raw request target: path and query, as sent. */
  path: string;
  /** Headers with lower-case names (Node's `req.headers`). */
  headers: Record<string, string | string[] | undefined>;
  /** The body bytes. */
  body: Uint8Array;
}

/** Options for {@link verifySigV4}. */
export interface VerifyOptions {
  /** Required signing region; any when unset. */
  region?: string;
  /** Required signing service; any when unset. */
  service?: string;
  /** The verifier's clock. @default {new Date()} */
  now?: Date;
  /** Allowed clock difference in ms. @default {900000} (15 minutes, as AWS) */
  maxSkewMs?: number;
}

/** The outcome of {@link verifySigV4}. */
export type VerifyResult =
  | { ok: true; accessKeyId: string }
  | { ok: false; code: string; message: string; accessKeyId?: string };

function header(h: ReceivedRequest["headers"], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(",") : v;
}

function lookup(table: CredentialTable, keyId: string): KnownCredentials | undefined {
  if (typeof table === "function") {
    const secret = table(keyId);
    return secret === undefined ? undefined : { accessKeyId: keyId, secretAccessKey: secret };
  }
  return table.find((c) => c.accessKeyId === keyId);
}

function amzDateToMs(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : Number.NaN;
}

/** Formats `date` as SigV4's basic ISO 8601 (`20260101T000000Z`). */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, "");
}

/** Computes the signature `aws4` produces for `req` as received, over the given signed headers. */
export function aws4Signature(
  req: ReceivedRequest,
  credentials: KnownCredentials,
  scope: { region: string; service: string },
  signedHeaders: readonly string[],
  datetime: string,
): string {
  const headers: Record<string, string> = {};
  const include: Record<string, boolean> = {};
  for (const name of signedHeaders) {
    headers[name] = name === "host"
      ? (header(req.headers, "host") ?? "")
      : (header(req.headers, name) ?? "");
    include[name] = true;
  }
  const signer = new aws4.RequestSigner({
    method: req.method,
    path: req.path,
    headers,
    body: Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength),
    service: scope.service,
    region: scope.region,
    doNotModifyHeaders: true,
    extraHeadersToInclude: include,
  }, {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
  });
  // With doNotModifyHeaders, aws4 would take the time from `Date` or the clock.
  signer.datetime = datetime;
  signer.prepareRequest();
  return signer.signature();
}

/**
 * Verifies the SigV4 `Authorization` header of `req` against `table`.
 * Failure codes follow AWS: `MissingAuthenticationToken`,
 * `IncompleteSignature`, `UnrecognizedClientException` (unknown key or wrong
 * token), `InvalidSignatureException` (mismatch, or "Signature expired" /
 * "Signature not yet current" outside the window).
 */
export function verifySigV4(
  req: ReceivedRequest,
  table: CredentialTable,
  options: VerifyOptions = {},
): VerifyResult {
  const { now = new Date(), maxSkewMs = 15 * 60_000 } = options;
  const auth = header(req.headers, "authorization");
  if (!auth) {
    return {
      ok: false,
      code: "MissingAuthenticationToken",
      message: "Missing Authentication Token",
    };
  }
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/
      .exec(auth);
  if (!m) {
    return { ok: false, code: "IncompleteSignature", message: "Authorization header is malformed" };
  }
  const [, keyId, scopeDate, region, service, signedList, signature] = m;
  const signedHeaders = signedList.split(";");
  if (!signedHeaders.includes("host")) {
    return {
      ok: false,
      code: "InvalidSignatureException",
      message: "'Host' must be a signed header",
      accessKeyId: keyId,
    };
  }
  if (options.region && region !== options.region) {
    return {
      ok: false,
      code: "InvalidSignatureException",
      message: `Credential should be scoped to a valid region, not '${region}'`,
      accessKeyId: keyId,
    };
  }
  if (options.service && service !== options.service) {
    return {
      ok: false,
      code: "InvalidSignatureException",
      message: `Credential should be scoped to correct service: '${options.service}'`,
      accessKeyId: keyId,
    };
  }
  const known = lookup(table, keyId);
  if (!known) {
    return {
      ok: false,
      code: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
      accessKeyId: keyId,
    };
  }
  const datetime = header(req.headers, "x-amz-date");
  if (!datetime || !signedHeaders.includes("x-amz-date")) {
    return {
      ok: false,
      code: "IncompleteSignature",
      message: "x-amz-date must be present and signed",
      accessKeyId: keyId,
    };
  }
  const t = amzDateToMs(datetime);
  if (!Number.isFinite(t) || datetime.slice(0, 8) !== scopeDate) {
    return {
      ok: false,
      code: "InvalidSignatureException",
      message: "Date in Credential scope does not match x-amz-date",
      accessKeyId: keyId,
    };
  }
  const nowMs = now.getTime();
  const nowStr = amzDate(now);
  if (t < nowMs - maxSkewMs) {
    return {
      ok: false,
      code: "InvalidSignatureException",
      message: `Signature expired: ${datetime} is now earlier than ${
        amzDate(new Date(nowMs - maxSkewMs))
      } (${nowStr} - 15 min.)`,
      accessKeyId: keyId,
    };
  }
  if (t > nowMs + maxSkewMs) {
    return {
      ok: false,
      code: "InvalidSignatureException",
      message: `Signature not yet current: ${datetime} is still later than ${
        amzDate(new Date(nowMs + maxSkewMs))
      } (${nowStr} + 15 min.)`,
      accessKeyId: keyId,
    };
  }
  const token = header(req.headers, "x-amz-security-token");
  if (
    known.sessionToken !== undefined &&
    (token !== known.sessionToken || !signedHeaders.includes("x-amz-security-token"))
  ) {
    return {
      ok: false,
      code: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
      accessKeyId: keyId,
    };
  }
  // aws4 trusts x-amz-content-sha256 as the body hash; make sure it is honest.
  const declaredHash = header(req.headers, "x-amz-content-sha256");
  if (
    declaredHash !== undefined &&
    declaredHash !== createHash("sha256").update(req.body).digest("hex")
  ) {
    return {
      ok: false,
      code: "InvalidSignatureException",
      message: "x-amz-content-sha256 does not match the body",
      accessKeyId: keyId,
    };
  }
  const expected = aws4Signature(req, known, { region, service }, signedHeaders, datetime);
  const ok = timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  if (!ok) {
    return {
      ok: false,
      code: "InvalidSignatureException",
      message: "The request signature we calculated does not match the signature you provided.",
      accessKeyId: keyId,
    };
  }
  return { ok: true, accessKeyId: keyId };
}
