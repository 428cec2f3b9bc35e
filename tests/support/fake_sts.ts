/**
 * A loopback fake of the STS Query API for tests: it checks AssumeRole
 * signatures with the independent `aws4` package (through
 * `sigv4_verifier.ts`), records the form parameters, and answers with XML
 * shaped like STS's.
 *
 * Test code: it uses `node:http` and runs under Deno, Bun and Node.
 * @module
 */
import { listenLoopback, readBody } from "./http.ts";
import { type KnownCredentials, type VerifyResult, verifySigV4 } from "./sigv4_verifier.ts";

/** Credentials the fake issues. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** One request the fake STS received. */
export interface StsRequestRecord {
  /** `Action` form parameter. */
  action: string;
  /** All form parameters. */
  params: Record<string, string>;
  /** Request headers (lower-case). */
  headers: Record<string, string | string[] | undefined>;
  /** The signature check, for signed actions. */
  verified?: VerifyResult;
  /** Raw body. */
  body: string;
}

/** A canned reply, or `undefined` to let the fake answer normally. */
export type StsReply =
  | { status: number; body: string; headers?: Record<string, string> }
  | undefined;

/** Options for {@link startFakeSts}. */
export interface FakeStsOptions {
  /** Source credentials allowed to sign AssumeRole. */
  known: KnownCredentials[];
  /** Required signing region. @default {"us-east-1"} */
  region?: string;
  /** The web identity token AssumeRoleWithWebIdentity accepts. @default {undefined} (any) */
  webIdentityToken?: string;
  /** Issues credentials per call. @default {fresh ASIA… keys valid for one hour} */
  issue?: (n: number) => IssuedCredentials;
  /** Overrides the reply to a request (errors, junk). */
  reply?: (record: StsRequestRecord, n: number) => StsReply;
  /**
   * The fake's clock runs this many ms ahead of the machine's: signatures are
   * checked against it (15-minute window, as AWS) and `Date` headers carry it.
   * @default {0}
   */
  clockOffsetMs?: number;
}

/** A running fake STS. */
export interface FakeSts {
  /** Base URL, `http://127.0.0.1:<port>/`. */
  url: string;
  /** Requests received, in order. */
  requests: StsRequestRecord[];
  /** Credentials issued, in order. */
  issued: IssuedCredentials[];
  /** Stops the server. */
  close(): Promise<void>;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** An STS success document for `action`. */
export function successXml(action: string, c: IssuedCredentials, requestId = "req-ok-1"): string {
  return `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <${action}Result>
    <AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${xmlEscape(c.accessKeyId)}</AccessKeyId>
      <SecretAccessKey>${xmlEscape(c.secretAccessKey)}</SecretAccessKey>
      <SessionToken>${xmlEscape(c.sessionToken)}</SessionToken>
      <Expiration>${c.expiration.toISOString()}</Expiration>
    </Credentials>
  </${action}Result>
  <ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>
</${action}Response>`;
}

/** An STS `ErrorResponse` document. */
export function errorXml(
  code: string,
  message: string,
  requestId = "req-err-1",
  type = "Sender",
): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>${type}</Type><Code>${xmlEscape(code)}</Code><Message>${
    xmlEscape(message)
  }</Message></Error>
  <RequestId>${requestId}</RequestId>
</ErrorResponse>`;
}

/** Starts a fake STS on a loopback port. */
export async function startFakeSts(options: FakeStsOptions): Promise<FakeSts> {
  const { known, region = "us-east-1", clockOffsetMs = 0 } = options;
  const requests: StsRequestRecord[] = [];
  const issued: IssuedCredentials[] = [];
  const issue = options.issue ?? ((n: number) => ({
    accessKeyId: `ASIAFAKE${String(n).padStart(4, "0")}`,
    secretAccessKey: `issued-secret-${n}-${crypto.randomUUID()}`,
    sessionToken: `issued-token-${n}-${crypto.randomUUID()}`,
    expiration: new Date(Date.now() + 3600_000),
  }));
  const loop = await listenLoopback(async (req, res) => {
    const bytes = await readBody(req);
    const body = new TextDecoder().decode(bytes);
    const params = Object.fromEntries(new URLSearchParams(body));
    const record: StsRequestRecord = {
      action: params.Action ?? "",
      params,
      headers: req.headers,
      body,
    };
    requests.push(record);
    const n = requests.length;
    const send = (status: number, xml: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        "content-type": "text/xml",
        date: new Date(Date.now() + clockOffsetMs).toUTCString(),
        "x-amzn-requestid": `hdr-${n}`,
        ...headers,
      });
      res.end(xml);
    };
    if (req.method !== "POST" || params.Version !== "2011-06-15") {
      return send(400, errorXml("InvalidAction", "expected a POST with Version 2011-06-15"));
    }
    if (record.action === "AssumeRole") {
      record.verified = verifySigV4(
        { method: req.method!, path: req.url!, headers: req.headers, body: bytes },
        known,
        {
          region,
          service: "sts",
          now: new Date(Date.now() + clockOffsetMs),
        },
      );
    }
    const canned = options.reply?.(record, n);
    if (canned) return send(canned.status, canned.body, canned.headers);
    if (record.verified && !record.verified.ok) {
      return send(
        403,
        errorXml("SignatureDoesNotMatch", `${record.verified.code}: ${record.verified.message}`),
      );
    }
    if (record.action === "AssumeRoleWithWebIdentity") {
      if (
        options.webIdentityToken !== undefined &&
        params.WebIdentityToken !== options.webIdentityToken
      ) {
        return send(
          400,
          errorXml(
            "InvalidIdentityToken",
            "Couldn't retrieve verification key from your identity provider",
          ),
        );
      }
    } else if (record.action !== "AssumeRole") {
      return send(400, errorXml("InvalidAction", `unknown action ${record.action}`));
    }
    const creds = issue(n);
    issued.push(creds);
    send(200, successXml(record.action, creds, `req-${n}`));
  });
  return { url: loop.url, requests, issued, close: loop.close };
}
