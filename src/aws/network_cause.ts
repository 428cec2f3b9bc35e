/**
 * Why a `fetch` failed, in words and a code, whichever runtime threw it.
 *
 * Runtimes wrap the reason differently: Node's `TypeError: fetch failed` holds
 * an `Error` with `code: "ECONNREFUSED"`, `address`, `port` in `cause`; Bun
 * puts the code on the `TypeError` itself; Deno gives no code, only a message
 * ("tcp connect error: Connection refused (os error 111)"). This walks the
 * cause chain (and `AggregateError.errors`), takes the first code it knows, or
 * infers one from the messages, and names it with a short phrase.
 * @module
 */

/** What {@link networkCause} found. */
export interface NetworkCause {
  /** A Node-style code: `ECONNREFUSED`, `ENOTFOUND`, `ECONNRESET`, `ETIMEDOUT`, `CERT`, … */
  code: string;
  /** A short phrase: `"connection refused"`, `"DNS name not found"`, … */
  text: string;
  /** `host:port` (or host) the runtime named, when it named one. */
  target?: string;
  /**
   * Whether retrying the same endpoint soon can help. A refused connection
   * counts as transient (a server may be starting); a DNS name that does not
   * exist or a certificate that does not verify does not.
   */
  transient: boolean;
}

interface CauseKind {
  text: string;
  transient: boolean;
}

/** Codes we name, as data. TLS verification codes all map to `CERT`. */
export const NETWORK_CODES: Readonly<Record<string, CauseKind>> = {
  ECONNREFUSED: { text: "connection refused", transient: true },
  ENOTFOUND: { text: "DNS name not found", transient: false },
  EAI_AGAIN: { text: "DNS lookup failed temporarily", transient: true },
  ECONNRESET: { text: "connection reset", transient: true },
  EPIPE: { text: "connection closed while sending", transient: true },
  ETIMEDOUT: { text: "connection timed out", transient: true },
  EHOSTUNREACH: { text: "host unreachable", transient: true },
  ENETUNREACH: { text: "network unreachable", transient: true },
  EADDRNOTAVAIL: { text: "address not available", transient: false },
  UND_ERR_CONNECT_TIMEOUT: { text: "connection timed out", transient: true },
  UND_ERR_SOCKET: { text: "connection closed by the other side", transient: true },
  UND_ERR_HEADERS_TIMEOUT: { text: "no response headers in time", transient: true },
  CERT: { text: "TLS certificate not trusted", transient: false },
  TLS: { text: "TLS handshake failed (is it an http:// endpoint?)", transient: false },
  BLOCKED_PORT: { text: "port blocked by the runtime", transient: false },
};

const TLS_CODE =
  /^(?:DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_[A-Z_]+|ERR_TLS_CERT_ALTNAME_INVALID)$/;
const TLS_PROTOCOL_CODE = /^ERR_SSL_|^EPROTO$/;

// Messages that carry no code (Deno, some Bun versions), first match wins.
const MESSAGE_PATTERNS: readonly [RegExp, string][] = [
  [/connection refused|ECONNREFUSED|ConnectionRefused/i, "ECONNREFUSED"],
  [
    /dns error|failed to lookup address|name or service not known|nodename nor servname|ENOTFOUND|no such host/i,
    "ENOTFOUND",
  ],
  [/temporary failure in name resolution|EAI_AGAIN/i, "EAI_AGAIN"],
  [/connection reset|ECONNRESET|ConnectionReset/i, "ECONNRESET"],
  [/broken pipe|EPIPE/i, "EPIPE"],
  [/(?:invalid peer |unknown issuer|self[- ]signed|certificate)/i, "CERT"],
  [/InvalidContentType|wrong version number|tls handshake|corrupt message/i, "TLS"],
  [/host unreachable|no route to host|EHOSTUNREACH/i, "EHOSTUNREACH"],
  [/network unreachable|ENETUNREACH/i, "ENETUNREACH"],
  [/requests to port \d+ are blocked|bad port/i, "BLOCKED_PORT"],
  [/timed out|ETIMEDOUT/i, "ETIMEDOUT"],
];

function normalize(code: string): string | undefined {
  if (code in NETWORK_CODES) return code;
  if (TLS_CODE.test(code)) return "CERT";
  if (TLS_PROTOCOL_CODE.test(code)) return "TLS";
  return undefined;
}

/** Every error in the chain, outermost first (bounded: chains can be cyclic). */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  const queue = [error];
  while (queue.length > 0 && out.length < 16) {
    const e = queue.shift();
    if (e === undefined || e === null || out.includes(e)) continue;
    out.push(e);
    if (typeof e === "object") {
      const { cause, errors } = e as { cause?: unknown; errors?: unknown };
      if (Array.isArray(errors)) queue.push(...errors);
      queue.push(cause);
    }
  }
  return out;
}

function targetOf(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const { address, port, hostname } = e as {
    address?: unknown;
    port?: unknown;
    hostname?: unknown;
  };
  if (typeof address === "string" && address !== "") {
    const host = address.includes(":") ? `[${address}]` : address;
    return typeof port === "number" ? `${host}:${port}` : host;
  }
  return typeof hostname === "string" && hostname !== "" ? hostname : undefined;
}

/**
 * Finds the network reason behind `error`, or `undefined` when there is none
 * it recognises.
 *
 * @example
 * ```ts
 * import { networkCause } from "./network_cause.ts";
 * const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4567"), {
 *   code: "ECONNREFUSED", address: "127.0.0.1", port: 4567,
 * });
 * networkCause(new TypeError("fetch failed", { cause }));
 * // { code: "ECONNREFUSED", text: "connection refused", target: "127.0.0.1:4567", transient: true }
 * ```
 */
export function networkCause(error: unknown): NetworkCause | undefined {
  const errors = chain(error);
  let code: string | undefined;
  let target: string | undefined;
  for (const e of errors) {
    const raw = (e as { code?: unknown })?.code;
    const known = typeof raw === "string" ? normalize(raw) : undefined;
    if (known && !code) {
      code = known;
      target = targetOf(e);
    }
  }
  if (!code) {
    for (const e of errors) {
      const message = e instanceof Error ? e.message : typeof e === "string" ? e : "";
      const hit = MESSAGE_PATTERNS.find(([re]) => re.test(message));
      if (hit) {
        code = hit[1];
        break;
      }
    }
  }
  if (!code) return undefined;
  target ??= errors.map(targetOf).find((t) => t !== undefined);
  const kind = NETWORK_CODES[code];
  const cause: NetworkCause = { code, text: kind.text, transient: kind.transient };
  if (target !== undefined) cause.target = target;
  return cause;
}

/** `"connection refused (ECONNREFUSED) to 127.0.0.1:4567"`, with `fallbackTarget` when the runtime named none. */
export function describeNetworkCause(cause: NetworkCause, fallbackTarget?: string): string {
  const target = cause.target ?? fallbackTarget;
  return `${cause.text} (${cause.code})${target ? ` to ${target}` : ""}`;
}
