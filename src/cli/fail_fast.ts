/**
 * Stopping early when nothing can succeed. Watching every PutRecord attempt:
 * while none has succeeded yet, when the first attempts all failed the same
 * way that retrying cannot fix (DNS name not found, connection refused or
 * no answer on every retry, a TLS certificate, access denied, stream not
 * found, keys not recognised), the run stops with that reason and a hint instead of retrying
 * every chunk to exhaustion. After the first success it never fires:
 * transient faults later on keep their retries.
 * @module
 */
import type { DebugEvent } from "../aws/debug.ts";
import { CLOCK_SKEW_MESSAGE } from "../aws/errors.ts";

/** What to say for one kind of failure that retrying cannot fix. */
interface Verdict {
  /** Why, in words. */
  what: string;
  /** The next step. */
  hint: string;
  /**
   * The attempt (0-based retry count) that must have failed too before giving
   * up: 2 for a refused connection, since a server may be starting.
   */
  minRetry?: number;
}

/** Failures that end the run when the first attempts all show them. Keyed by network or AWS code. */
export const FAIL_FAST: Readonly<Record<string, Verdict>> = {
  ECONNREFUSED: {
    what: "connection refused",
    hint: "nothing listens there: check --endpoint (or AWS_ENDPOINT_URL_KINESIS / " +
      "AWS_ENDPOINT_URL) and that the service is running",
    minRetry: 2,
  },
  TimeoutError: {
    what: "no answer in time",
    hint: "the endpoint accepts connections but never answers: check that --endpoint is a " +
      "Kinesis endpoint and what sits in between (proxy, firewall); --request-timeout sets " +
      "how long each attempt waits",
    minRetry: 2,
  },
  ENOTFOUND: {
    what: "DNS name not found",
    hint: "the endpoint's host name does not resolve: check --endpoint and --region",
  },
  CERT: {
    what: "TLS certificate not trusted",
    hint: "for a local emulator use its plain http:// port; otherwise check the proxy or CA setup",
  },
  TLS: {
    what: "TLS handshake failed",
    hint: "the endpoint may speak plain HTTP: try http:// instead of https://",
  },
  BLOCKED_PORT: {
    what: "the runtime refuses to connect to this port",
    hint: "use the endpoint's real port",
  },
  AccessDeniedException: {
    what: "access denied",
    hint: "the credentials lack kinesis:PutRecord on this stream: check the IAM policy " +
      "(or --role-arn), and that the stream is the one meant",
  },
  ResourceNotFoundException: {
    what: "stream not found",
    hint: "check --stream-name and --region, and which account the credentials belong to",
  },
  UnrecognizedClientException: {
    what: "the access key id is not recognised",
    hint: "check the credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE) and the region",
  },
  InvalidSignatureException: {
    what: "the signature does not match",
    hint: "the secret key does not belong to the access key id (or the clock is far off)",
  },
  IncompleteSignatureException: {
    what: "the signature is incomplete",
    hint: "check the credentials",
  },
  KMSAccessDeniedException: {
    what: "KMS access denied",
    hint: "the stream is encrypted: the credentials need kms:GenerateDataKey on its key",
  },
};

/** How many failed attempts, all alike and with no success, end the run. */
export const FAIL_FAST_ATTEMPTS = 3;

/** The decision, once made. */
export interface FailFastVerdict {
  /** Why: `"connection refused (ECONNREFUSED) to 127.0.0.1:4567"`, the service's message, … */
  reason: string;
  /** The next step. */
  hint: string;
  /** Failed attempts seen. */
  attempts: number;
}

/** Watches attempts; see the module doc. */
export class FailFast {
  #succeeded = false;
  #key: string | undefined;
  #attempts = 0;
  #lastRetry = 0;
  #verdict: FailFastVerdict | undefined;

  /** The decision, once made. */
  get verdict(): FailFastVerdict | undefined {
    return this.#verdict;
  }

  /**
   * Takes one Kinesis attempt's debug event. Returns the verdict the first
   * time the evidence is enough, `undefined` otherwise.
   */
  observe(event: DebugEvent): FailFastVerdict | undefined {
    if (this.#succeeded || this.#verdict || event.service !== "kinesis") return undefined;
    // Only put calls judge the run: the stream check (DescribeStreamSummary,
    // ListShards) may fail on its own (a missing permission, a stand-in sink).
    if (event.action !== "PutRecord" && event.action !== "PutRecords") return undefined;
    if (!event.error) {
      this.#succeeded = true;
      return undefined;
    }
    const key = event.causeCode ?? event.error;
    // A skewed clock also says InvalidSignatureException; the client corrects it and retries.
    if (CLOCK_SKEW_MESSAGE.test(event.cause ?? "")) return undefined;
    if (this.#key !== undefined && key !== this.#key) {
      this.#key = "mixed"; // Unlike failures: not one clear cause, so let retries run.
      return undefined;
    }
    this.#key = key;
    const verdict = FAIL_FAST[key];
    if (!verdict) return undefined;
    this.#attempts++;
    this.#lastRetry = Math.max(this.#lastRetry, event.retry);
    if (this.#attempts < FAIL_FAST_ATTEMPTS || this.#lastRetry < (verdict.minRetry ?? 0)) {
      return undefined;
    }
    const said = (event.cause ?? "").replace(/^request failed: /, "");
    this.#verdict = {
      reason: said === "" ? verdict.what : event.causeCode ? said : `${verdict.what}: ${said}`,
      hint: verdict.hint,
      attempts: this.#attempts,
    };
    return this.#verdict;
  }
}
