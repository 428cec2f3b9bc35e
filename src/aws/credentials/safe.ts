/**
 * Credentials objects that keep their secrets out of logs: `JSON.stringify`,
 * `String()`, `console.log` and `inspect` in Deno, Node and Bun show only the
 * access key id and the expiration.
 * @module
 */
import type { AwsCredentials } from "../types.ts";
import { CredentialsError } from "./errors.ts";

const DENO_INSPECT = Symbol.for("Deno.customInspect");
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");

// Plain own fields keep spreading and the signer working; the methods on the
// prototype decide what the runtime shows when the object is printed.
class Credentials implements AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;

  constructor(input: AwsCredentials) {
    this.accessKeyId = input.accessKeyId;
    this.secretAccessKey = input.secretAccessKey;
    if (input.sessionToken !== undefined) this.sessionToken = input.sessionToken;
    if (input.expiration !== undefined) this.expiration = input.expiration;
    Object.freeze(this);
  }

  toJSON(): Record<string, string> {
    const out: Record<string, string> = {
      accessKeyId: this.accessKeyId,
      secretAccessKey: "[REDACTED]",
    };
    if (this.sessionToken !== undefined) out.sessionToken = "[REDACTED]";
    if (this.expiration !== undefined) out.expiration = this.expiration.toISOString();
    return out;
  }

  toString(): string {
    const expires = this.expiration ? ` expires ${this.expiration.toISOString()}` : "";
    return `AwsCredentials(${this.accessKeyId}${
      this.sessionToken !== undefined ? ", session" : ""
    }${expires})`;
  }

  [DENO_INSPECT](): string {
    return this.toString();
  }

  [NODE_INSPECT](): string {
    return this.toString();
  }
}

/**
 * Validates `input` and returns an equal, frozen credentials object whose
 * printed forms hide the secret key and session token.
 *
 * @example Printing hides the secret
 * ```ts
 * import { safeCredentials } from "@kpl/kinesis-producer/aws";
 * const c = safeCredentials({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s3cr3t" });
 * console.log(String(c)); // AwsCredentials(AKIDEXAMPLE)
 * ```
 * @throws {CredentialsError} `InvalidCredentials` when the key id or secret is missing or the expiration is not a valid date.
 */
export function safeCredentials(
  input: AwsCredentials,
  source: string = "credentials",
): AwsCredentials {
  if (input instanceof Credentials) return input;
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = input;
  if (typeof accessKeyId !== "string" || accessKeyId === "") {
    throw new CredentialsError("InvalidCredentials", `${source}: the access key id is missing`, {
      source,
    });
  }
  if (typeof secretAccessKey !== "string" || secretAccessKey === "") {
    throw new CredentialsError(
      "InvalidCredentials",
      `${source}: the secret access key is missing`,
      { source },
    );
  }
  if (sessionToken !== undefined && typeof sessionToken !== "string") {
    throw new CredentialsError(
      "InvalidCredentials",
      `${source}: the session token is not a string`,
      { source },
    );
  }
  if (
    expiration !== undefined &&
    !(expiration instanceof Date && Number.isFinite(expiration.getTime()))
  ) {
    throw new CredentialsError(
      "InvalidCredentials",
      `${source}: the expiration is not a valid date`,
      { source },
    );
  }
  return new Credentials({
    accessKeyId,
    secretAccessKey,
    sessionToken: sessionToken || undefined,
    expiration,
  });
}

/** Parses an ISO-8601 expiration, or throws `InvalidCredentials` naming `source`. */
export function parseExpiration(value: string, source: string): Date {
  const date = new Date(value);
  if (!Number.isFinite(date.getTime())) {
    // The value is a timestamp, not a secret, so it is safe to show.
    throw new CredentialsError(
      "InvalidCredentials",
      `${source}: cannot parse expiration "${value.slice(0, 40)}"`,
      {
        source,
      },
    );
  }
  return date;
}
