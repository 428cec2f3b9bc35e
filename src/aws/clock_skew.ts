/**
 * The server's clock as AWS quotes it in signature-time errors, for when a
 * response has no usable `Date` header. Kinesis and STS write
 * `Signature expired: <request> is now earlier than <limit> (<server now> - <window> min.)`
 * and `Signature not yet current: … (<server now> + <window> min.)`; the
 * window differs by service (5 or 15 minutes) and the time may be in the
 * compact SigV4 form (`20260101T002500Z`) or extended ISO 8601
 * (`2026-01-01T00:25:00Z`, with fractions or a numeric offset).
 * @module
 */

// The time quoted before "± N min" inside parentheses: that is the server's "now".
const QUOTED =
  /\(\s*(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})\s*[+-]\s*\d+\s*min(?:utes?)?\.?\s*\)/i;

/**
 * Returns the server time in epoch ms quoted in `message`, or `undefined`.
 *
 * @example
 * ```ts
 * import { serverTimeFromMessage } from "./clock_skew.ts";
 * const t = serverTimeFromMessage("Signature expired: a is now earlier than b (20260101T002500Z - 15 min.)");
 * console.log(new Date(t!).toISOString()); // 2026-01-01T00:25:00.000Z
 * ```
 */
export function serverTimeFromMessage(message: string): number | undefined {
  const m = QUOTED.exec(message);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, frac ? Math.floor(+`0.${frac}` * 1000) : 0);
  if (zone.toUpperCase() !== "Z") {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const offset = (+z[2] * 60 + +z[3]) * 60_000;
    t -= z[1] === "+" ? offset : -offset;
  }
  // Reject impossible dates (month 13, hour 25) rather than let Date.UTC roll them over.
  const check = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
  if (
    check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || check.getUTCHours() !== +h ||
    check.getUTCMinutes() !== +mi || check.getUTCSeconds() !== +s
  ) return undefined;
  return Number.isFinite(t) ? t : undefined;
}
