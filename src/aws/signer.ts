/**
 * SigV4 request signing for fetch-shaped requests, on `@smithy/signature-v4`.
 *
 * Kinesis and STS both sign `host`, `x-amz-date`, the session token when there is
 * one, and the content headers; neither wants `x-amz-content-sha256`.
 * @module
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { hasherFor, type HasherName } from "./sha256.ts";
import type { AwsCredentials } from "./types.ts";

/** A request to sign: what `fetch` will send. */
export interface SignableRequest {
  /** HTTP method, for example `"POST"`. */
  method: string;
  /** Full URL. */
  url: URL;
  /** Headers to send and sign (lower- or mixed-case names). */
  headers: Record<string, string>;
  /** The body, hashed into the signature. */
  body?: Uint8Array | string;
}

/** Options for {@link Signer}. */
export interface SignerOptions {
  /** Signing name of the service, for example `"kinesis"` or `"sts"`. */
  service: string;
  /** Signing region, for example `"us-east-1"`. */
  region: string;
  /**
   * SHA-256 backend.
   * @default {"auto"}
   */
  hasher?: HasherName;
}

/** Signs requests for one service and region. Reuse it: it caches signing keys. */
export class Signer {
  /** Signing name of the service. */
  readonly service: string;
  /** Signing region. */
  readonly region: string;
  readonly #hasher: HasherName;
  // One smithy signer per credentials object: it caches the derived signing key.
  #cached: { credentials: AwsCredentials; sigv4: SignatureV4 } | undefined;

  constructor(options: SignerOptions) {
    const { service, region, hasher = "auto" } = options;
    this.service = service;
    this.region = region;
    this.#hasher = hasher;
  }

  /**
   * Returns the headers to send with `request`: the given ones plus
   * `x-amz-date`, `x-amz-security-token` and `authorization`. `host` is signed
   * but not returned, because `fetch` sets it.
   */
  async sign(
    request: SignableRequest,
    credentials: AwsCredentials,
    date: Date = new Date(),
  ): Promise<Record<string, string>> {
    const { url } = request;
    const headers: Record<string, string> = { ...request.headers, host: url.host };
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const prev = query[key];
      query[key] = prev === undefined ? value : ([] as string[]).concat(prev, value);
    }
    const sigv4 = this.#signerFor(credentials);
    const signed = await sigv4.sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers,
      body: request.body,
    }, { signingDate: date });
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      if (name.toLowerCase() !== "host") out[name] = value as string;
    }
    return out;
  }

  #signerFor(credentials: AwsCredentials): SignatureV4 {
    if (this.#cached?.credentials !== credentials) {
      const sigv4 = new SignatureV4({
        service: this.service,
        region: this.region,
        credentials,
        sha256: hasherFor(this.#hasher),
        applyChecksum: false,
      });
      this.#cached = { credentials, sigv4 };
    }
    return this.#cached.sigv4;
  }
}
