/**
 * Provider chains, and the default chain in the AWS SDK order: environment →
 * shared files (profile) → web identity → container → EC2 instance metadata.
 *
 * Every provider here reaches runtime built-ins only when called, through
 * `builtin()`, so importing the chain pulls no `node:` module into a Workers
 * bundle; there the file and metadata sources report "not available".
 * @module
 */
import type { DebugSink } from "../debug.ts";
import type { CredentialProvider, FetchLike } from "../types.ts";
import { fromContainer } from "./container.ts";
import { type EnvReader, fromEnv } from "./env.ts";
import { type CredentialsAttempt, CredentialsError, isUnavailable } from "./errors.ts";
import { fromInstanceMetadata } from "./imds.ts";
import { fromSharedFiles } from "./shared_files.ts";
import { fromTokenFile } from "./web_identity.ts";

/** A provider with the name a "not found" error uses for it. */
export interface NamedProvider {
  /** Source name, for example `"environment"`. */
  readonly name: string;
  /** The provider; it throws a `CredentialsUnavailable` {@link CredentialsError} when it does not apply. */
  readonly provider: CredentialProvider;
}

/**
 * A provider that asks `sources` in order and sticks with the first that
 * yields credentials. Sources that report `CredentialsUnavailable` are
 * skipped; any other error stops the chain (a source that applies but fails
 * must not silently give way to another identity). When no source applies,
 * it throws `CredentialsNotFound`, naming each source and why it did not
 * apply. A failed resolution is not remembered: the next call starts over.
 *
 * @example
 * ```ts
 * import { chainProviders } from "@kpl/kinesis-producer/aws";
 * import { fromEnv } from "@kpl/kinesis-producer/aws";
 * import { fromStatic } from "@kpl/kinesis-producer/aws";
 * const provider = chainProviders([
 *   { name: "environment", provider: fromEnv({ env: () => undefined }) },
 *   { name: "static", provider: fromStatic({ accessKeyId: "AKID", secretAccessKey: "s" }) },
 * ]);
 * console.log((await provider()).accessKeyId); // AKID
 * ```
 * @throws {CredentialsError} `CredentialsNotFound` when no source applies.
 */
export function chainProviders(sources: readonly NamedProvider[]): CredentialProvider {
  let winner: CredentialProvider | undefined;
  let resolving: Promise<CredentialProvider> | undefined;

  async function resolve(): Promise<CredentialProvider> {
    const tried: CredentialsAttempt[] = [];
    for (const { name, provider } of sources) {
      try {
        await provider();
        return provider;
      } catch (error) {
        if (!isUnavailable(error)) throw failedAfter(error, name, tried);
        const reason = error.tried[0]?.reason ?? error.message;
        tried.push({ source: name, reason });
      }
    }
    throw new CredentialsError(
      "CredentialsNotFound",
      `No AWS credentials found. Looked for: ${listTried(tried)}`,
      { tried },
    );
  }

  return async (opts) => {
    if (winner) return winner(opts);
    // Concurrent first callers share one walk down the chain.
    resolving ??= resolve().finally(() => {
      resolving = undefined;
    });
    const provider = await resolving;
    winner = provider;
    // The winner caches its own credentials; this call is served from there.
    return provider(opts);
  };
}

function listTried(tried: readonly CredentialsAttempt[]): string {
  return tried.map((t, i) => `${i + 1}) ${t.source}: ${t.reason}`).join("; ");
}

/**
 * The error of a source that applied but failed, naming the sources before it
 * and why each did not apply: a 403 from the metadata address alone would hide
 * that the environment and the profile had nothing either.
 */
function failedAfter(error: unknown, source: string, before: readonly CredentialsAttempt[]) {
  const message = error instanceof Error ? error.message : String(error);
  const tried = [...before, { source, reason: message }];
  if (before.length === 0) return error;
  const code = error instanceof CredentialsError ? error.code : "CredentialsFetchFailed";
  return new CredentialsError(
    code,
    `${message} (from ${source}; before it: ${listTried(before)})`,
    {
      source: error instanceof CredentialsError ? error.source ?? source : source,
      tried,
      retryable: (error as { retryable?: unknown })?.retryable === true,
      cause: error,
    },
  );
}

/** Options for {@link defaultCredentials}. */
export interface DefaultCredentialsOptions {
  /**
   * Profile of the shared files. Naming one explicitly skips the environment
   * keys, as the AWS SDKs and CLI do for an explicit profile.
   * @default {env AWS_PROFILE, else "default"}
   */
  profile?: string;
  /**
   * The `fetch` for STS and metadata calls: pass the proxied one.
   * @default {globalThis.fetch}
   */
  fetch?: FetchLike;
  /**
   * Region for STS calls.
   * @default {env AWS_REGION / AWS_DEFAULT_REGION, else "us-east-1"}
   */
  region?: string;
  /**
   * Log each STS / metadata call, or receive the events.
   * @default {undefined}
   */
  debug?: boolean | DebugSink;
  /**
   * Where variables are read from (inject in tests, or bindings in Workers).
   * @default {getEnv}
   */
  env?: EnvReader;
  /**
   * The instance metadata endpoint.
   * @default {env AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254}
   */
  imdsEndpoint?: string;
}

/**
 * The default credential chain, in the AWS SDK order: environment, shared
 * files (profile), web identity token file, container (ECS / EKS Pod
 * Identity), EC2 instance metadata. The first that yields wins and is cached.
 *
 * @example Nothing configured
 * ```ts
 * import { defaultCredentials } from "@kpl/kinesis-producer/aws";
 * const provider = defaultCredentials({ env: (name) => ({ AWS_EC2_METADATA_DISABLED: "true", HOME: "/nonexistent" })[name] });
 * await provider().catch((e) => console.log(e.code)); // CredentialsNotFound
 * ```
 * @throws {CredentialsError} `CredentialsNotFound` (naming each source and why it did not apply) when none does.
 */
export function defaultCredentials(options: DefaultCredentialsOptions = {}): CredentialProvider {
  const { profile, fetch, region, debug, env, imdsEndpoint } = options;
  const sources: NamedProvider[] = [];
  if (profile === undefined) sources.push({ name: "environment", provider: fromEnv({ env }) });
  sources.push(
    { name: "shared files", provider: fromSharedFiles({ profile, fetch, region, debug, env }) },
    { name: "web identity", provider: fromTokenFile({ fetch, region, debug, env }) },
    { name: "container", provider: fromContainer({ fetch, debug, env }) },
    {
      name: "EC2 instance metadata",
      provider: fromInstanceMetadata({ endpoint: imdsEndpoint, fetch, debug, env }),
    },
  );
  return chainProviders(sources);
}
