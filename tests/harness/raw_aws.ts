/**
 * Raw Kinesis and STS calls for the emulator harness, with a well-formed but
 * fake SigV4 header: LocalStack and kinesis-mock check only its shape. Real
 * signing lives in src/aws/signer.ts; this file must not depend on it so the
 * harness works even when the signer is broken.
 * @module
 */

/** Result of a raw call: HTTP status and the response text. */
export interface RawResponse {
  /** HTTP status code. */
  status: number;
  /** Response body as text (JSON for Kinesis, XML for STS). */
  text: string;
}

/** An `Authorization` header that parses as SigV4 but carries no real signature. */
export function fakeAuthorization(service: string, region: string, accessKeyId = "000000000000"): {
  authorization: string;
  "x-amz-date": string;
} {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${
      amzDate.slice(0, 8)
    }/${region}/${service}/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${
      "0".repeat(64)
    }`,
    "x-amz-date": amzDate,
  };
}

/** POSTs one Kinesis JSON 1.1 action (`ListStreams`, `CreateStream`, ...). */
export async function kinesisRaw(
  endpoint: string,
  region: string,
  action: string,
  body: unknown,
  timeoutMs = 10_000,
): Promise<RawResponse> {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `Kinesis_20131202.${action}`,
      ...fakeAuthorization("kinesis", region),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, text: await res.text() };
}

/** POSTs one STS Query API action, e.g. `AssumeRole`. */
export async function stsRaw(
  endpoint: string,
  region: string,
  params: Record<string, string>,
  timeoutMs = 10_000,
): Promise<RawResponse> {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      ...fakeAuthorization("sts", region),
    },
    body: new URLSearchParams({ Version: "2011-06-15", ...params }).toString(),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, text: await res.text() };
}
