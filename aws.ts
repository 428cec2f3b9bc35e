/**
 * The AWS side, for your own calls: the signed Kinesis client (PutRecord,
 * ListShards, GetRecords, streams), reading a stream back, credential
 * providers, error classification, proxies, and the producer's retry policy.
 *
 * @example Classify an error code
 * ```ts
 * import { classifyError } from "@kpl/kinesis-producer/aws";
 * const { kind, retryable } = classifyError("ProvisionedThroughputExceededException", 400);
 * if (kind !== "throttling" || !retryable) throw new Error("unexpected");
 * ```
 * @module
 */

export * from "./src/aws/kinesis_client.ts";
export { readStream, type ShardRecord } from "./src/aws/read_stream.ts";
export {
  type Classification,
  classifyError,
  hasAwsCode,
  KinesisError,
  type KinesisErrorInit,
  type KinesisErrorKind,
  type ResponseMetadata,
} from "./src/aws/errors.ts";
export type { AwsCredentials, CredentialProvider, FetchLike } from "./src/aws/types.ts";
export type { DebugEvent, DebugSink } from "./src/aws/debug.ts";
export type { HasherName } from "./src/aws/sha256.ts";
export * from "./src/aws/credentials/mod.ts";
export {
  type ProxiedFetch,
  proxyFetch,
  type ProxyFetchOptions,
  type ProxyRuntime,
  ProxyUnsupportedError,
} from "./src/runtime/proxy.ts";
export {
  bypassesProxy,
  envProxyFetch,
  type ProxyEnv,
  readProxyEnv,
} from "./src/runtime/proxy_env.ts";
export { type Clock, systemClock, type TimerHandle } from "./src/producer/clock.ts";
export { backoffMs, type GiveUpReason, nextRetry, type RetryPolicy } from "./src/producer/retry.ts";
