/**
 * Region and endpoint resolution for Kinesis, following the AWS SDK conventions:
 * an explicit option, then `AWS_ENDPOINT_URL_KINESIS`, then `AWS_ENDPOINT_URL`,
 * then the regional endpoint (`.amazonaws.com.cn` in the China partition).
 * @module
 */
import { getEnv } from "../runtime/env.ts";
import { redactUrl } from "../runtime/proxy.ts";
import { suggestUrl } from "../runtime/url_hint.ts";
import { regionFromEnv } from "./credentials/env.ts";
import { profileRegionLookup } from "./credentials/profile_region.ts";
import { KinesisError } from "./errors.ts";

/** Options for {@link resolveRegion} and {@link resolveEndpoint}. */
export interface EndpointOptions {
  /**
   * AWS region, for example `"eu-west-1"`.
   * @default {AWS_REGION, then AWS_DEFAULT_REGION}
   */
  region?: string;
  /**
   * Endpoint URL, for example `"http://127.0.0.1:4566"` for LocalStack.
   * @default {AWS_ENDPOINT_URL_KINESIS, then AWS_ENDPOINT_URL, then the regional endpoint}
   */
  endpoint?: string | URL;
}

// Region names are lower-case words and digits joined by dashes; anything else
// would end up inside a host name.
const REGION = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Returns the region from `options.region`, else `AWS_REGION`, else
 * `AWS_DEFAULT_REGION`. Throws a fatal {@link KinesisError} with code
 * `MissingRegion` when there is none, `InvalidRegion` when it is malformed.
 *
 * @example
 * ```ts
 * import { resolveRegion } from "./endpoint.ts";
 * resolveRegion({ region: "eu-west-1" }); // "eu-west-1"
 * ```
 */
export function resolveRegion(options: EndpointOptions = {}): string {
  const region = options.region ?? regionFromEnv();
  if (!region) {
    throw missingRegion(["the `region` option", "AWS_REGION", "AWS_DEFAULT_REGION"]);
  }
  return checkRegion(region);
}

/**
 * The region of the shared config profile (`AWS_PROFILE`, else `default`, in
 * `AWS_CONFIG_FILE`, else `~/.aws/config`), for when neither the option nor the
 * variables gave one. Rejects with a fatal `MissingRegion` {@link KinesisError}
 * naming every source tried, or `InvalidRegion` naming the profile.
 */
export async function resolveProfileRegion(): Promise<string> {
  const found = await profileRegionLookup();
  const where = `profile ${JSON.stringify(found.profile)}` +
    (found.configFile ? ` in ${found.configFile}` : "");
  if (!found.region) {
    throw missingRegion([
      "the `region` option",
      "AWS_REGION",
      "AWS_DEFAULT_REGION",
      `${where} (${found.why})`,
    ]);
  }
  return checkRegion(found.region, where);
}

/**
 * A fatal `MissingRegion` {@link KinesisError} naming every source tried, in
 * order, for example `profile "dev" in /home/me/.aws/config (no such profile)`.
 */
export function missingRegion(tried: readonly string[]): KinesisError {
  return new KinesisError({
    code: "MissingRegion",
    message: `Cannot resolve the Kinesis region: tried ${tried.join(", ")}; ` +
      "pass `region`, set AWS_REGION, or add `region = ...` to the profile",
    kind: "fatal",
  });
}

/**
 * Returns `region` when it is a valid host name part, else throws a fatal
 * `InvalidRegion` {@link KinesisError}; `source` (for example
 * `profile "dev" in ~/.aws/config`) is named in the message.
 */
export function checkRegion(region: string, source?: string): string {
  if (!REGION.test(region)) {
    throw new KinesisError({
      code: "InvalidRegion",
      message: `Cannot use region${source ? ` from ${source}` : ""} as a host name part: ` +
        `current value is ${JSON.stringify(region.slice(0, 64))}`,
      kind: "fatal",
    });
  }
  return region;
}

/** The default Kinesis endpoint for `region`: `.amazonaws.com.cn` for `cn-*`. */
export function regionalEndpoint(region: string): URL {
  const suffix = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return new URL(`https://kinesis.${region}.${suffix}/`);
}

/**
 * Returns the endpoint URL for `region`: `options.endpoint`, else
 * `AWS_ENDPOINT_URL_KINESIS`, else `AWS_ENDPOINT_URL`, else
 * {@link regionalEndpoint}. Throws a fatal {@link KinesisError} (`InvalidEndpoint`)
 * for a URL that is not http(s) or carries credentials, a query or a fragment.
 *
 * @example
 * ```ts
 * import { resolveEndpoint } from "./endpoint.ts";
 * resolveEndpoint("cn-north-1").href; // "https://kinesis.cn-north-1.amazonaws.com.cn/"
 * ```
 */
export function resolveEndpoint(region: string, options: EndpointOptions = {}): URL {
  return configuredEndpoint(options) ?? regionalEndpoint(region);
}

/**
 * The endpoint set by `options.endpoint`, `AWS_ENDPOINT_URL_KINESIS` or
 * `AWS_ENDPOINT_URL`, validated as in {@link resolveEndpoint}; `undefined`
 * when none is set (the regional endpoint applies).
 */
export function configuredEndpoint(options: EndpointOptions = {}): URL | undefined {
  const fromKinesisEnv = options.endpoint === undefined
    ? getEnv("AWS_ENDPOINT_URL_KINESIS")
    : undefined;
  const raw = options.endpoint ?? fromKinesisEnv ?? getEnv("AWS_ENDPOINT_URL");
  if (raw === undefined) return undefined;
  const source = options.endpoint !== undefined
    ? ""
    : fromKinesisEnv !== undefined
    ? " (from AWS_ENDPOINT_URL_KINESIS)"
    : " (from AWS_ENDPOINT_URL)";
  // Every message names the value (password hidden), where it came from, and the likely fix.
  const invalid = (why: string, cause?: unknown) => {
    const text = String(raw);
    const fix = suggestUrl(text);
    return new KinesisError({
      code: "InvalidEndpoint",
      message: `Cannot use endpoint ${JSON.stringify(redactUrl(text).slice(0, 200))}${source}: ` +
        `${why}${fix ? `; did you mean ${fix}?` : ""}`,
      kind: "fatal",
      cause,
    });
  };
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch (cause) {
    throw invalid("it is not a URL", cause);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw invalid(
      /^[a-z][a-z0-9+.-]*:\d/i.test(String(raw))
        ? "it has no scheme (http:// or https://)"
        : `only http: and https: work, not ${url.protocol}`,
    );
  }
  if (url.username || url.password) {
    throw invalid("it carries user info; keys go in the credentials, never in the URL");
  }
  if (url.search || url.hash) throw invalid("it carries a query or a fragment");
  return url;
}
