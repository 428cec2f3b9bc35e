/**
 * EC2 instance metadata (IMDSv2): PUT a session token, GET the role name,
 * GET the role's credentials. Short timeouts, because off EC2 nothing answers.
 * @module
 */
import { type DebugSink, debugSink } from "../debug.ts";
import type { CredentialProvider, FetchLike } from "../types.ts";
import { cachedProvider } from "./cache.ts";
import { type EnvReader, envReader } from "./env.ts";
import { CredentialsError, unavailable } from "./errors.ts";
import {
  describeFailure,
  type EndpointResponse,
  readCredentialsJson,
  requestEndpoint,
} from "./http.ts";
import { hasProcessRuntime } from "./runtime.ts";

/** Options for {@link fromInstanceMetadata}. */
export interface InstanceMetadataOptions {
  /**
   * The metadata endpoint.
   * @default {env AWS_EC2_METADATA_SERVICE_ENDPOINT, else `http://[fd00:ec2::254]` when AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is IPv6, else `http://169.254.169.254`}
   */
  endpoint?: string;
  /**
   * The `fetch` to call the endpoint with.
   * @default {globalThis.fetch}
   */
  fetch?: FetchLike;
  /**
   * Timeout per request, in milliseconds.
   * @default {1000}
   */
  timeoutMs?: number;
  /**
   * Refresh this long before the credentials expire.
   * @default {300000}
   */
  refreshAheadMs?: number;
  /**
   * Log each call (`true`: to `console.error`), or receive the events.
   * @default {undefined}
   */
  debug?: boolean | DebugSink;
  /**
   * Where the `AWS_EC2_METADATA_*` variables are read from.
   * @default {getEnv}
   */
  env?: EnvReader;
}

const SOURCE = "EC2 instance metadata";
const CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/";
/** Token lifetime asked for; tokens are fetched per refresh, so 6 h is never reached. */
const TOKEN_TTL_SECONDS = "21600";

/** The IMDS endpoint `fromInstanceMetadata` uses by default, given the environment. */
export function imdsEndpoint(env?: EnvReader): string {
  const read = envReader(env);
  const explicit = read("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (explicit) return explicit.replace(/\/+$/, "");
  return read("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")?.toLowerCase() === "ipv6"
    ? "http://[fd00:ec2::254]"
    : "http://169.254.169.254";
}

/**
 * A provider for the instance role's credentials from IMDSv2, cached until
 * shortly before they expire. Falls back to IMDSv1 when the token call is
 * refused (403/404/405), unless `AWS_EC2_METADATA_V1_DISABLED=true`.
 *
 * @example
 * ```ts ignore
 * import { fromInstanceMetadata } from "@kpl/kinesis-producer/aws";
 * const creds = await fromInstanceMetadata()(); // on EC2 with an instance role
 * ```
 * @throws {CredentialsError} `CredentialsUnavailable` when disabled (`AWS_EC2_METADATA_DISABLED=true`), not in a server runtime, nothing answers, or the instance has no role; `CredentialsFetchFailed` when an endpoint that answered before fails.
 */
export function fromInstanceMetadata(options: InstanceMetadataOptions = {}): CredentialProvider {
  const env = envReader(options.env);
  const {
    fetch = (input, init) => globalThis.fetch(input, init),
    timeoutMs = 1000,
    refreshAheadMs,
  } = options;
  const debug = debugSink(options.debug);
  let answeredBefore = false;

  return cachedProvider(async () => {
    if (env("AWS_EC2_METADATA_DISABLED")?.toLowerCase() === "true") {
      throw unavailable(SOURCE, "AWS_EC2_METADATA_DISABLED=true");
    }
    if (!options.fetch && !hasProcessRuntime()) {
      throw unavailable(SOURCE, "no instance metadata endpoint in this runtime");
    }
    const endpoint = (options.endpoint ?? imdsEndpoint(env)).replace(/\/+$/, "");
    const call = (
      action: string,
      method: "GET" | "PUT",
      path: string,
      headers: Record<string, string>,
    ) =>
      requestEndpoint(fetch, {
        source: "imds",
        action,
        method,
        url: endpoint + path,
        headers,
        timeoutMs,
        debug,
      });
    // Off EC2 the first call times out: that means "not here", unless it answered before.
    const fail = (what: string, response: EndpointResponse): never => {
      const why = `${what} at ${endpoint}: ${describeFailure(response, timeoutMs)}`;
      if (!answeredBefore) throw unavailable(SOURCE, why);
      throw new CredentialsError("CredentialsFetchFailed", `${SOURCE}: ${why}`, {
        source: SOURCE,
        retryable: response.status === 0 || response.status >= 500,
        cause: response.error,
      });
    };

    const tokenResponse = await call("GetToken", "PUT", "/latest/api/token", {
      "x-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_SECONDS,
    });
    if (tokenResponse.status !== 0) answeredBefore = true;
    const headers: Record<string, string> = {};
    if (tokenResponse.status === 200) {
      headers["x-aws-ec2-metadata-token"] = tokenResponse.text.trim();
    } else if ([403, 404, 405].includes(tokenResponse.status)) {
      if (env("AWS_EC2_METADATA_V1_DISABLED")?.toLowerCase() === "true") {
        fail("IMDSv2 token refused and AWS_EC2_METADATA_V1_DISABLED=true", tokenResponse);
      }
    } else {
      fail("no IMDSv2 token", tokenResponse);
    }

    const roleResponse = await call("GetRoleName", "GET", CREDENTIALS_PATH, headers);
    if (roleResponse.status === 404) throw unavailable(SOURCE, "the instance has no IAM role");
    if (roleResponse.status !== 200) fail("cannot list the instance role", roleResponse);
    const role = roleResponse.text.trim().split("\n")[0]?.trim();
    if (!role) throw unavailable(SOURCE, "the instance has no IAM role");

    const credsResponse = await call(
      "GetRoleCredentials",
      "GET",
      CREDENTIALS_PATH + encodeURIComponent(role),
      headers,
    );
    if (credsResponse.status !== 200) fail(`cannot get credentials of role ${role}`, credsResponse);
    return readCredentialsJson(credsResponse.text, SOURCE);
  }, { refreshAheadMs });
}
