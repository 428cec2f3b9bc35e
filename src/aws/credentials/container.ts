/**
 * ECS task and EKS Pod Identity credentials: the agent's endpoint named by
 * `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on `http://169.254.170.2`) or
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with an optional authorization token.
 * @module
 */
import { type DebugSink, debugSink } from "../debug.ts";
import type { CredentialProvider, FetchLike } from "../types.ts";
import { cachedProvider } from "./cache.ts";
import { type EnvReader, envReader } from "./env.ts";
import { CredentialsError, unavailable } from "./errors.ts";
import { describeFailure, readCredentialsJson, requestEndpoint } from "./http.ts";
import { fileSystem } from "./runtime.ts";

/** Options for {@link fromContainer}. */
export interface ContainerCredentialsOptions {
  /**
   * The `fetch` to call the agent with.
   * @default {globalThis.fetch}
   */
  fetch?: FetchLike;
  /**
   * Timeout per request, in milliseconds.
   * @default {1000}
   */
  timeoutMs?: number;
  /**
   * Attempts per refresh, for network errors, timeouts and 5xx.
   * @default {3}
   */
  maxAttempts?: number;
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
   * Where the `AWS_CONTAINER_*` variables are read from.
   * @default {getEnv}
   */
  env?: EnvReader;
}

const SOURCE = "container";
/** The ECS agent's address for relative URIs. */
export const ECS_HOST = "http://169.254.170.2";
// Plain http is allowed only to the machine itself or to the ECS / EKS agents,
// as the AWS SDKs do: anything else could read the token off the wire.
const HTTP_HOSTS = new Set([
  "169.254.170.2",
  "169.254.170.23",
  "[fd00:ec2::23]",
  "localhost",
  "[::1]",
]);

function allowedFullUri(url: URL): boolean {
  if (url.protocol === "https:") return true;
  if (url.protocol !== "http:") return false;
  return HTTP_HOSTS.has(url.hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname);
}

/**
 * A provider for ECS / EKS Pod Identity container credentials, cached until
 * shortly before they expire.
 *
 * @example
 * ```ts ignore
 * import { fromContainer } from "@kpl/kinesis-producer/aws";
 * const creds = await fromContainer()(); // inside an ECS task
 * ```
 * @throws {CredentialsError} `CredentialsUnavailable` when neither URI variable is set; `InvalidConfiguration` for a full URI that is not https or a local / agent address; `CredentialsFetchFailed` when the agent fails.
 */
export function fromContainer(options: ContainerCredentialsOptions = {}): CredentialProvider {
  const env = envReader(options.env);
  const {
    fetch = (input, init) => globalThis.fetch(input, init),
    timeoutMs = 1000,
    maxAttempts = 3,
    refreshAheadMs,
  } = options;
  const debug = debugSink(options.debug);

  async function target(): Promise<{ url: string; authorization?: string }> {
    const relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    let url: string;
    if (relative) {
      url = ECS_HOST + (relative.startsWith("/") ? relative : `/${relative}`);
    } else if (full) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(full);
      } catch {
        parsed = undefined;
      }
      if (!parsed || !allowedFullUri(parsed)) {
        throw new CredentialsError(
          "InvalidConfiguration",
          `${SOURCE}: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback or container agent address; current host is ${
            parsed ? `${parsed.protocol}//${parsed.host}` : "unparsable"
          }`,
          { source: SOURCE },
        );
      }
      url = parsed.href;
    } else {
      throw unavailable(
        SOURCE,
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set",
      );
    }
    const tokenFile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    if (tokenFile) {
      const files = fileSystem();
      if (!files) {
        throw unavailable(
          SOURCE,
          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is set but this runtime has no file system",
        );
      }
      try {
        // Read on every refresh: EKS rotates the token file.
        return { url, authorization: (await files.fs.readFile(tokenFile, "utf8")).trim() };
      } catch (cause) {
        throw new CredentialsError(
          "InvalidConfiguration",
          `${SOURCE}: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ${tokenFile}`,
          {
            source: SOURCE,
            cause,
          },
        );
      }
    }
    return { url, authorization: env("AWS_CONTAINER_AUTHORIZATION_TOKEN") };
  }

  return cachedProvider(async () => {
    const { url, authorization } = await target();
    for (let attempt = 1;; attempt++) {
      const response = await requestEndpoint(fetch, {
        source: SOURCE,
        action: "GetCredentials",
        method: "GET",
        url,
        headers: authorization ? { authorization } : undefined,
        timeoutMs,
        debug,
      });
      if (response.status >= 200 && response.status < 300) {
        return readCredentialsJson(response.text, SOURCE);
      }
      const retryable = response.status === 0 || response.status >= 500 || response.status === 429;
      if (!retryable || attempt >= maxAttempts) {
        throw new CredentialsError(
          "CredentialsFetchFailed",
          `${SOURCE}: ${new URL(url).origin} failed: ${
            describeFailure(response, timeoutMs)
          } (attempt ${attempt} of ${maxAttempts})`,
          { source: SOURCE, retryable, cause: response.error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }, { refreshAheadMs });
}
