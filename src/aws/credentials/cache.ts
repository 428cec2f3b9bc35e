/**
 * Caching for refreshing credential providers (STS, web identity, container,
 * IMDS): one refresh at a time, ahead of expiry, without poisoning the cache
 * when a refresh fails.
 * @module
 */
import type { AwsCredentials, CredentialProvider } from "../types.ts";

/** Loads fresh credentials; called by {@link cachedProvider} at most once at a time. */
export type CredentialsLoader = () => Promise<AwsCredentials>;

/** Options for {@link cachedProvider}. */
export interface CachedProviderOptions {
  /**
   * Start a refresh this many milliseconds before the credentials expire.
   * Callers keep getting the cached credentials meanwhile.
   * @default {300000}
   */
  refreshAheadMs?: number;
  /**
   * After a refresh ahead of expiry (successful or not), wait this long before
   * starting another one, so a failing STS is not called on every request.
   * @default {10000}
   */
  retryAheadAfterMs?: number;
  /**
   * The clock, in epoch milliseconds; inject one in tests.
   * @default {Date.now}
   */
  now?: () => number;
}

/**
 * Credentials this close to expiry are not handed out: a request signed with
 * them could arrive after they expire.
 */
export const EXPIRY_MARGIN_MS = 10_000;

/**
 * Wraps `load` in a cache:
 * - credentials without an expiration are kept for good;
 * - otherwise they are served until `expiration - refreshAheadMs`, then
 *   refreshed in the background while still served, until
 *   `expiration - EXPIRY_MARGIN_MS`; after that callers wait for a refresh;
 * - concurrent callers share one in-flight refresh (single flight);
 * - `forceRefresh` skips the cache (joining a refresh already in flight);
 * - a failed refresh rejects everyone waiting on it with its error and leaves
 *   the cache as it was, so the next call tries again, and credentials that
 *   are still valid keep being served.
 *
 * @example
 * ```ts
 * import { cachedProvider } from "@kpl/kinesis-producer/aws";
 * let loads = 0;
 * const provider = cachedProvider(() => {
 *   loads++;
 *   return Promise.resolve({ accessKeyId: "AKID", secretAccessKey: "s", expiration: new Date(Date.now() + 3600_000) });
 * });
 * await Promise.all([provider(), provider(), provider()]);
 * console.log(loads); // 1
 * ```
 */
export function cachedProvider(
  load: CredentialsLoader,
  options: CachedProviderOptions = {},
): CredentialProvider {
  const { refreshAheadMs = 300_000, retryAheadAfterMs = 10_000, now = Date.now } = options;
  if (!(refreshAheadMs >= 0)) {
    throw new RangeError(
      `Cannot cache credentials with refreshAheadMs ${refreshAheadMs}: it must be >= 0`,
    );
  }
  let current: AwsCredentials | undefined;
  let inflight: Promise<AwsCredentials> | undefined;
  let quietUntil = 0;

  function refresh(): Promise<AwsCredentials> {
    if (inflight) return inflight;
    const started = (async () => await load())();
    const shared = started.then((credentials) => {
      current = credentials;
      return credentials;
    }).finally(() => {
      inflight = undefined;
      quietUntil = now() + retryAheadAfterMs;
    });
    // A background refresh has no waiter; this keeps its failure from being an
    // unhandled rejection. Waiters still see the rejection.
    shared.catch(() => {});
    inflight = shared;
    return shared;
  }

  return (opts) => {
    if (!opts?.forceRefresh && current) {
      const expires = current.expiration?.getTime();
      if (expires === undefined) return Promise.resolve(current);
      const t = now();
      if (t < expires - EXPIRY_MARGIN_MS) {
        if (t >= expires - refreshAheadMs && t >= quietUntil) void refresh();
        return Promise.resolve(current);
      }
    }
    return refresh();
  };
}
