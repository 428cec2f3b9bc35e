/**
 * Credential providers: static, environment, STS AssumeRole and web identity,
 * shared files, container, EC2 instance metadata, and the default chain.
 * @module
 */
// The shared shapes, so this barrel documents completely on its own.
export type { AwsCredentials, CredentialProvider, FetchLike } from "../types.ts";
export type { DebugEvent, DebugSink } from "../debug.ts";
export {
  cachedProvider,
  type CachedProviderOptions,
  type CredentialsLoader,
  EXPIRY_MARGIN_MS,
} from "./cache.ts";
export {
  chainProviders,
  defaultCredentials,
  type DefaultCredentialsOptions,
  type NamedProvider,
} from "./chain.ts";
export { type ContainerCredentialsOptions, fromContainer } from "./container.ts";
export { type EnvCredentialsOptions, type EnvReader, fromEnv, regionFromEnv } from "./env.ts";
export {
  type CredentialsAttempt,
  CredentialsError,
  type CredentialsErrorCode,
  type CredentialsErrorOptions,
  StsError,
  type StsErrorOptions,
} from "./errors.ts";
export { fromInstanceMetadata, imdsEndpoint, type InstanceMetadataOptions } from "./imds.ts";
export { safeCredentials } from "./safe.ts";
export { type ProfileRegionOptions, regionFromProfile } from "./profile_region.ts";
export { fromSharedFiles, type SharedFilesOptions } from "./shared_files.ts";
export { fromStatic, type StaticCredentialsOptions } from "./static.ts";
export {
  type AssumeRoleOptions,
  fromAssumeRole,
  fromWebIdentity,
  readStsResponse,
  type StsClientOptions,
  stsEndpointFor,
  type WebIdentityOptions,
} from "./sts.ts";
export { fromTokenFile, type TokenFileOptions } from "./web_identity.ts";
