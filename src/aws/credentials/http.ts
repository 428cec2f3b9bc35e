/**
 * One GET or PUT to a credentials endpoint (container, IMDS) with a timeout,
 * turning failures into {@link CredentialsError}s that never quote a body.
 * @module
 */
import type { DebugSink } from "../debug.ts";
import { describeRedirect, isRedirect, NO_REDIRECTS } from "../redirect.ts";
import type { AwsCredentials, FetchLike } from "../types.ts";
import { CredentialsError } from "./errors.ts";
import { parseExpiration, safeCredentials } from "./safe.ts";

/** A request to a credentials endpoint. */
export interface EndpointRequest {
  /** The provider, for messages, for example `"container"`. */
  source: string;
  /** Debug action name, for example `"GetRoleCredentials"`. */
  action: string;
  /** HTTP method. */
  method: "GET" | "PUT";
  /** The URL. */
  url: string;
  /** Headers to send. */
  headers?: Record<string, string>;
  /** Timeout in milliseconds. */
  timeoutMs: number;
  /** Where to report the call. */
  debug?: DebugSink;
}

/** The outcome of {@link requestEndpoint}: a response, or `undefined` status 0 when none came. */
export interface EndpointResponse {
  /** HTTP status; 0 when no response came. */
  status: number;
  /** The body text ("" when no response came). */
  text: string;
  /** The network or timeout error, when no response came. */
  error?: unknown;
  /** Set when the endpoint answered a redirect (not followed). */
  redirected?: boolean;
}

/** Sends one request; never throws for network errors or timeouts, it reports them as status 0. */
export async function requestEndpoint(
  fetch: FetchLike,
  request: EndpointRequest,
): Promise<EndpointResponse> {
  const started = performance.now();
  let result: EndpointResponse;
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      signal: AbortSignal.timeout(request.timeoutMs),
      redirect: NO_REDIRECTS,
    });
    if (isRedirect(response)) {
      // Never a credentials document: the status alone says what happened (0 reads as "no answer").
      await response.body?.cancel().catch(() => {});
      result = { status: response.status || 302, text: "", redirected: true };
    } else result = { status: response.status, text: await response.text() };
  } catch (error) {
    result = { status: 0, text: "", error };
  }
  request.debug?.({
    service: request.source,
    action: request.action,
    status: result.status,
    durationMs: performance.now() - started,
    retry: 0,
    error: result.error
      ? ((result.error as Error)?.name === "TimeoutError" ? "TimeoutError" : "NetworkError")
      : undefined,
  });
  return result;
}

/** Describes a failed {@link EndpointResponse} without quoting its body. */
export function describeFailure(response: EndpointResponse, timeoutMs: number): string {
  if (response.redirected) return describeRedirect(response);
  if (response.status !== 0) return `HTTP ${response.status}`;
  return (response.error as Error)?.name === "TimeoutError"
    ? `no response within ${timeoutMs} ms`
    : "connection failed";
}

/**
 * Reads the JSON credentials document that ECS, EKS Pod Identity and IMDS
 * serve: `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`.
 */
export function readCredentialsJson(text: string, source: string): AwsCredentials {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new CredentialsError(
      "CredentialsFetchFailed",
      `${source}: the credentials response is not JSON`,
      { source, cause },
    );
  }
  if (typeof doc !== "object" || doc === null) {
    throw new CredentialsError(
      "CredentialsFetchFailed",
      `${source}: the credentials response is not a JSON object`,
      { source },
    );
  }
  if (doc.Code !== undefined && doc.Code !== "Success") {
    throw new CredentialsError(
      "CredentialsFetchFailed",
      `${source}: the endpoint answered Code ${JSON.stringify(String(doc.Code).slice(0, 60))}`,
      {
        source,
        retryable: true,
      },
    );
  }
  const str = (
    name: string,
  ) => (typeof doc[name] === "string" && doc[name] !== "" ? doc[name] as string : undefined);
  const accessKeyId = str("AccessKeyId");
  const secretAccessKey = str("SecretAccessKey");
  if (!accessKeyId || !secretAccessKey) {
    throw new CredentialsError(
      "CredentialsFetchFailed",
      `${source}: the credentials response lacks AccessKeyId or SecretAccessKey`,
      { source },
    );
  }
  const expiration = str("Expiration");
  return safeCredentials({
    accessKeyId,
    secretAccessKey,
    sessionToken: str("Token"),
    expiration: expiration ? parseExpiration(expiration, source) : undefined,
  }, source);
}
