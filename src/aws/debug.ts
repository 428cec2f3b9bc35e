/**
 * Debug output for AWS calls (the seed's `debug` option).
 *
 * Events carry only safe fields: action, status, duration, request id, retry
 * count, error code. Never headers, bodies, keys or tokens.
 * @module
 */

/** One API call, as reported to a {@link DebugSink}. */
export interface DebugEvent {
  /** Service called: `"kinesis"`, `"sts"`, or the credential endpoints `"container"` and `"imds"`. */
  service: string;
  /** API action, for example `"PutRecord"`. */
  action: string;
  /** HTTP status, or 0 when no response came (network error, timeout). */
  status: number;
  /** Milliseconds from send to response (or failure). */
  durationMs: number;
  /** The AWS request id, when the response had one. */
  requestId?: string;
  /** 0 for the first attempt, then 1, 2, … */
  retry: number;
  /** AWS error code or failure kind, when the call failed. */
  error?: string;
  /**
   * Why it failed, redacted and at most 200 characters: the service's message
   * or the network cause (`"connection refused (ECONNREFUSED) to 127.0.0.1:4567"`).
   */
  cause?: string;
  /** The network cause's code when no response came: `ECONNREFUSED`, `ENOTFOUND`, `CERT`, … */
  causeCode?: string;
  /** Request body size in bytes. */
  bytes?: number;
  /** A remark on a response the client accepted but found odd (never data or secrets). */
  note?: string;
}

/** Receives {@link DebugEvent}s. */
export type DebugSink = (event: DebugEvent) => void;

/** Formats an event as one log line. */
export function formatDebugEvent(e: DebugEvent): string {
  const parts = [
    `[kinesis-kpl] ${e.service}.${e.action}`,
    `status=${e.status}`,
    `${e.durationMs.toFixed(1)}ms`,
  ];
  if (e.bytes !== undefined) parts.push(`bytes=${e.bytes}`);
  parts.push(`retry=${e.retry}`);
  if (e.requestId) parts.push(`requestId=${e.requestId}`);
  if (e.error) parts.push(`error=${e.error}`);
  if (e.cause) parts.push(`cause=${JSON.stringify(e.cause)}`);
  if (e.note) parts.push(`note=${JSON.stringify(e.note)}`);
  return parts.join(" ");
}

/** Resolves the `debug` option: `true` logs to `console.error`, a function receives events. */
export function debugSink(debug: boolean | DebugSink | undefined): DebugSink | undefined {
  if (typeof debug === "function") return debug;
  return debug ? (e) => console.error(formatDebugEvent(e)) : undefined;
}
