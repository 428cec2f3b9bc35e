/**
 * The signed request path every Kinesis operation goes through: encode the
 * body, resolve credentials, sign (SigV4), `fetch` with a per-attempt timeout,
 * read the response under a size cap, and turn failures into typed
 * {@link KinesisError}s with secrets redacted.
 *
 * It retries only what it can fix itself, once each: clock skew (from the
 * response `Date`) and an expired session token (after a forced refresh).
 * Everything else comes back as a {@link KinesisError} whose `kind`/`retryable`
 * tell the producer how to back off.
 * @module
 */
import { serverTimeFromMessage } from "./clock_skew.ts";
import { describeRedirect, isRedirect, NO_REDIRECTS } from "./redirect.ts";
import type { DebugSink } from "./debug.ts";
import { KinesisError, type KinesisErrorKind, redact } from "./errors.ts";
import { describeNetworkCause, networkCause } from "./network_cause.ts";
import type { RequestOptions } from "./kinesis_types.ts";
import type { Signer } from "./signer.ts";
import type { AwsCredentials, CredentialProvider, FetchLike } from "./types.ts";
import {
  CONTENT_TYPE,
  describeBody,
  encodeBody,
  type KinesisProtocol,
  parseBody,
  type WireObject,
} from "./wire_codec.ts";
import { concatBytes } from "../runtime/bytes.ts";
import { BodyPool } from "./body_pool.ts";

const TARGET_PREFIX = "Kinesis_20131202.";
// Responses larger than this are refused before reading (GetRecords tops out at 10 MiB
// of data; base64 and framing add about 40%).
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * The default per-attempt timeout for a request body of `bytes`: 10 s, plus 1 s
 * per started 64 KiB, so a 1 MiB PutRecord gets 26 s and still fits a slow
 * (≥ 64 KiB/s) uplink, while a stuck small call fails in about 10 s.
 */
export function defaultTimeoutMs(bytes: number): number {
  return 10_000 + Math.ceil(bytes / 65_536) * 1_000;
}

/**
 * Reads a response body, or returns `undefined` (and cancels it) once it passes
 * `max` bytes, whether or not it declared its length.
 */
async function readCapped(res: Response, max: number): Promise<Uint8Array | undefined> {
  if (Number(res.headers.get("content-length") ?? "0") > max) {
    await res.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(parts, total);
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    parts.push(value);
  }
}

/** Whether `c` looks like a credentials object (not a provider function). */
export function isStaticCredentials(c: unknown): c is AwsCredentials {
  return typeof c === "object" && c !== null &&
    typeof (c as AwsCredentials).accessKeyId === "string";
}

// Error codes arrive as "ResourceNotFoundException",
// "com.amazonaws.kinesis.v20131202#ResourceNotFoundException" or "Code:http://…".
function sanitizeCode(raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw === "") return undefined;
  let code = raw;
  const hash = code.lastIndexOf("#");
  if (hash >= 0) code = code.slice(hash + 1);
  const colon = code.indexOf(":");
  if (colon >= 0) code = code.slice(0, colon);
  code = code.trim();
  return /^[A-Za-z0-9_.]{1,100}$/.test(code) ? code : undefined;
}

interface Attempt {
  ok: boolean;
  value?: WireObject;
  error?: KinesisError;
  /** Server clock in epoch ms, from `Date` or the skew message. */
  serverTime?: number;
}

/** What a {@link RequestPath} needs: resolved and validated by the client. */
export interface RequestPathConfig {
  /** Endpoint URL. */
  endpoint: URL;
  /** Wire protocol. */
  protocol: KinesisProtocol;
  /** Credentials or provider. */
  credentials: CredentialProvider | AwsCredentials;
  /** The `fetch` to call. */
  fetch: FetchLike;
  /** Per-attempt timeout; `undefined` means {@link defaultTimeoutMs}. */
  timeoutMs: number | undefined;
  /** Debug sink. */
  debug: DebugSink | undefined;
  /** SigV4 signer for service `kinesis`. */
  signer: Signer;
  /**
   * Whether request bodies may be reused once a call ends: only for a transport
   * known to be done with the body by then (Node's node:http adapter; Deno's
   * `fetch`, which copies it), never for a caller's `fetch`.
   */
  reuseBodies?: boolean;
}

/** Sends signed Kinesis calls; one per client, holding the learnt clock offset. */
export class RequestPath {
  readonly #endpoint: URL;
  readonly #protocol: KinesisProtocol;
  readonly #credentials: CredentialProvider | AwsCredentials;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number | undefined;
  readonly #debug: DebugSink | undefined;
  readonly #signer: Signer;
  readonly #take: ((size: number) => Uint8Array<ArrayBuffer>) | undefined;
  readonly #pool: BodyPool | undefined;
  #clockOffsetMs = 0;

  /** Takes an already validated configuration. */
  constructor(config: RequestPathConfig) {
    this.#endpoint = config.endpoint;
    this.#protocol = config.protocol;
    this.#credentials = config.credentials;
    this.#fetch = config.fetch;
    this.#timeoutMs = config.timeoutMs;
    this.#debug = config.debug;
    this.#signer = config.signer;
    if (config.reuseBodies) {
      const pool = this.#pool = new BodyPool();
      this.#take = (size) => pool.take(size);
    }
  }

  /** Milliseconds added to the local clock when signing, learnt from clock-skew errors. */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs;
  }

  /**
   * Calls `action` with PascalCase wire `params` and returns the decoded
   * PascalCase response (`{}` for an empty body). Byte values (`Uint8Array`) are
   * sent as base64 (JSON) or byte strings (CBOR). Throws {@link KinesisError}.
   */
  async call(
    action: string,
    params: WireObject,
    options: RequestOptions = {},
  ): Promise<WireObject> {
    if (!/^[A-Za-z]+$/.test(action)) {
      throw new TypeError(`Cannot call action ${JSON.stringify(action)}: not an action name`);
    }
    const body = encodeBody(this.#protocol, params, this.#take);
    try {
      return await this.#send(action, body, options);
    } finally {
      this.#pool?.give(body);
    }
  }

  async #send(
    action: string,
    body: Uint8Array<ArrayBuffer>,
    options: RequestOptions,
  ): Promise<WireObject> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs ?? defaultTimeoutMs(body.length);
    let credentials = await this.#resolveCredentials(action, false, options.signal);
    let skewRetried = false;
    let refreshed = false;
    for (let attempt = 0;; attempt++) {
      const result = await this.#attempt(action, body, credentials, options, attempt, timeoutMs);
      if (result.ok) return result.value!;
      const error = result.error!;
      if (error.kind === "clock-skew" && !skewRetried && result.serverTime !== undefined) {
        skewRetried = true;
        this.#clockOffsetMs = result.serverTime - Date.now();
        continue;
      }
      if (
        error.kind === "expired-credentials" && !refreshed &&
        typeof this.#credentials === "function"
      ) {
        refreshed = true;
        credentials = await this.#resolveCredentials(action, true, options.signal);
        continue;
      }
      throw error;
    }
  }

  async #resolveCredentials(
    action: string,
    forceRefresh: boolean,
    signal?: AbortSignal,
  ): Promise<AwsCredentials> {
    const source = this.#credentials;
    let creds: AwsCredentials;
    try {
      if (signal?.aborted) throw signal.reason;
      creds = typeof source === "function"
        ? await source(forceRefresh ? { forceRefresh } : undefined)
        : source;
    } catch (cause) {
      if (signal?.aborted) {
        throw new KinesisError({
          code: "AbortError",
          message: "request aborted",
          action,
          kind: "fatal",
          cause: signal.reason,
        });
      }
      // Providers may say whether their failure is worth retrying (IMDS timeouts are).
      const retryable = (cause as { retryable?: unknown })?.retryable === true;
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new KinesisError({
        code: "CredentialsError",
        message: `cannot resolve credentials: ${message}`,
        action,
        kind: retryable ? "transient" : "fatal",
        cause,
      });
    }
    if (
      !isStaticCredentials(creds) || !creds.accessKeyId ||
      typeof creds.secretAccessKey !== "string" || !creds.secretAccessKey
    ) {
      throw new KinesisError({
        code: "CredentialsError",
        message: "credentials lack accessKeyId or secretAccessKey",
        action,
        kind: "fatal",
      });
    }
    return creds;
  }

  async #attempt(
    action: string,
    body: Uint8Array<ArrayBuffer>,
    credentials: AwsCredentials,
    options: RequestOptions,
    attempt: number,
    timeoutMs: number,
  ): Promise<Attempt> {
    const secrets = [credentials.secretAccessKey, credentials.sessionToken ?? ""];
    const started = performance.now();
    const event = (
      status: number,
      requestId?: string,
      error?: string,
      cause?: string,
      causeCode?: string,
    ) => {
      if (!this.#debug) return;
      try {
        this.#debug({
          service: "kinesis",
          action,
          status,
          durationMs: performance.now() - started,
          requestId,
          retry: (options.retry ?? 0) + attempt,
          error,
          ...(cause === undefined ? {} : { cause }),
          ...(causeCode === undefined ? {} : { causeCode }),
          bytes: body.length,
        });
      } catch {
        // A failing sink must not fail the call.
      }
    };
    const fail = (
      init: {
        code: string;
        message: string;
        status?: number;
        requestId?: string;
        kind?: KinesisErrorKind;
        cause?: unknown;
      },
      serverTime?: number,
    ): Attempt => {
      const error = new KinesisError({ ...init, action, secrets });
      // The redacted message without its "Action: Code: " prefix says why, for --debug.
      const why = error.message.slice(`${action}: ${init.code}: `.length);
      const causeCode = init.code === "NetworkError" ? networkCause(init.cause)?.code : undefined;
      event(init.status ?? 0, init.requestId, init.code, why.slice(0, 200), causeCode);
      return { ok: false, error, serverTime };
    };

    let headers: Record<string, string>;
    try {
      headers = await this.#signer.sign(
        {
          method: "POST",
          url: this.#endpoint,
          headers: {
            "content-type": CONTENT_TYPE[this.#protocol],
            "x-amz-target": TARGET_PREFIX + action,
          },
          body,
        },
        credentials,
        new Date(Date.now() + this.#clockOffsetMs),
      );
    } catch (cause) {
      return fail({
        code: "SigningError",
        message: "cannot sign the request",
        kind: "fatal",
        cause: redactCause(cause, secrets),
      });
    }
    const signature = /Signature=([0-9a-f]+)/.exec(
      headers.authorization ?? headers.Authorization ?? "",
    )?.[1];
    if (signature) secrets.push(signature);

    // One controller per attempt: aborted by our timer or the caller's signal.
    const controller = new AbortController();
    const outer = options.signal;
    let timedOut = false;
    // setTimeout fires at once for delays past 2^31-1 ms: Infinity means no timer.
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, Math.min(timeoutMs, 2 ** 31 - 1))
      : undefined;
    const onAbort = () => controller.abort();
    if (outer?.aborted) controller.abort();
    else outer?.addEventListener("abort", onAbort, { once: true });

    const aborted = (cause: unknown): Attempt =>
      timedOut
        ? fail({
          code: "TimeoutError",
          message: `no complete response within ${timeoutMs} ms`,
          kind: "transient",
        })
        : outer?.aborted
        ? fail({
          code: "AbortError",
          message: "request aborted",
          kind: "fatal",
          cause: outer.reason,
        })
        : fail({
          code: "NetworkError",
          message: `request failed: ${describeFetchFailure(cause, this.#endpoint, this.#fetch)}`,
          kind: "transient",
          cause: redactCause(cause, secrets),
        });

    try {
      let res: Response;
      try {
        res = await this.#fetch(this.#endpoint.href, {
          method: "POST",
          headers,
          body,
          signal: controller.signal,
          redirect: NO_REDIRECTS,
        });
      } catch (cause) {
        return aborted(cause);
      }
      const status = res.status;
      if (isRedirect(res)) {
        await res.body?.cancel().catch(() => {});
        return fail({
          code: "Redirect",
          message: describeRedirect(res),
          status,
          requestId: res.headers.get("x-amzn-requestid") ?? undefined,
          kind: "fatal",
        });
      }
      const requestId = res.headers.get("x-amzn-requestid") ?? undefined;
      const dateHeader = res.headers.get("date");
      const contentType = (res.headers.get("content-type") ?? "").toLowerCase();
      let bytes: Uint8Array | undefined;
      try {
        bytes = await readCapped(res, MAX_RESPONSE_BYTES);
      } catch (cause) {
        return aborted(cause);
      }
      if (!bytes) {
        return fail({
          code: "InvalidResponse",
          message: `response over ${MAX_RESPONSE_BYTES} bytes`,
          status,
          requestId,
          kind: "fatal",
        });
      }
      const parsed = parseBody(bytes, contentType);
      const ok = status >= 200 && status < 300;
      if (ok) {
        if (parsed.kind === "object" || parsed.kind === "empty") {
          event(status, requestId);
          return { ok: true, value: parsed.value ?? {} };
        }
        return fail({
          code: "InvalidResponse",
          message: `HTTP ${status} with ${describeBody(contentType, bytes.length)}`,
          status,
          requestId,
          kind: "fatal",
        });
      }
      const wire = parsed.value ?? {};
      const code = sanitizeCode(wire.__type) ?? sanitizeCode(wire.code) ??
        sanitizeCode(wire.Code) ??
        sanitizeCode(res.headers.get("x-amzn-errortype")) ?? `Http${status}`;
      const rawMessage = typeof wire.message === "string"
        ? wire.message
        : typeof wire.Message === "string"
        ? wire.Message
        : `HTTP ${status} with ${describeBody(contentType, bytes.length)}`;
      const dateMs = dateHeader ? Date.parse(dateHeader) : Number.NaN;
      const serverTime = Number.isFinite(dateMs) ? dateMs : serverTimeFromMessage(rawMessage);
      return fail({ code, message: rawMessage, status, requestId }, serverTime);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    }
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

// "connection refused (ECONNREFUSED) to 127.0.0.1:4567", or the runtime's own words.
// Through a proxy, the connection that failed is almost always the one to the
// proxy (a proxy that cannot reach the endpoint answers with a status instead),
// and Deno names no address: the proxy is named, not the endpoint.
function describeFetchFailure(cause: unknown, endpoint: URL, fetch: FetchLike): string {
  const found = networkCause(cause);
  if (!found) return describe(cause);
  const port = endpoint.port || (endpoint.protocol === "https:" ? "443" : "80");
  const proxy = (fetch as { proxyFor?: (url: string) => string | undefined }).proxyFor?.(
    endpoint.href,
  );
  if (proxy === undefined) return describeNetworkCause(found, `${endpoint.hostname}:${port}`);
  return `${found.text} (${found.code}) to proxy ${
    found.target ?? proxy
  } (for ${endpoint.hostname}:${port})`;
}

// Fields of runtime network errors worth keeping on a redacted copy.
const CAUSE_FIELDS = ["code", "errno", "syscall", "address", "port", "hostname"] as const;

// Causes are kept (the whole chain, codes included) for debugging, but their messages pass
// through redaction too. A runtime that gives no code (Deno) gets the inferred one.
function redactCause(cause: unknown, secrets: readonly string[], depth = 0): unknown {
  if (!(cause instanceof Error)) return redact(String(cause), secrets);
  const clean = redact(cause.message, secrets);
  const inner = depth < 4 && cause.cause !== undefined
    ? redactCause(cause.cause, secrets, depth + 1)
    : cause.cause;
  const code = depth === 0 && networkCause(cause)?.code;
  const needsCode = code && !chainHasCode(cause);
  if (clean === cause.message && inner === cause.cause && !needsCode) return cause;
  const copy = new Error(clean, inner === undefined ? undefined : { cause: inner });
  copy.name = cause.name;
  const fields = copy as unknown as Record<string, unknown>;
  for (const key of CAUSE_FIELDS) {
    if (key in cause) fields[key] = (cause as unknown as Record<string, unknown>)[key];
  }
  if (needsCode) fields.code = code;
  return copy;
}

function chainHasCode(error: unknown): boolean {
  for (let e = error, i = 0; e instanceof Error && i < 8; e = e.cause, i++) {
    if (typeof (e as { code?: unknown }).code === "string") return true;
  }
  return false;
}
