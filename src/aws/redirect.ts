/**
 * Redirects are never followed on an AWS call. A followed 307 would send the
 * signed request (session token, records) to whatever host the `Location`
 * names, and that host's 200 would count as a delivery. Every `fetch` here
 * passes {@link NO_REDIRECTS}, and a 3xx answer is an error of that call.
 * @module
 */

/** The `redirect` mode of every AWS request. */
export const NO_REDIRECTS = "manual" as const;

/**
 * True when `response` is a redirect that was not followed: a 3xx status, or
 * the opaque answer a browser-like `fetch` gives for `redirect: "manual"`.
 */
export function isRedirect(response: Pick<Response, "status" | "type">): boolean {
  return (response.status >= 300 && response.status < 400) ||
    response.type === "opaqueredirect";
}

/** One line for the error of a redirected call; the target host is not named. */
export function describeRedirect(response: Pick<Response, "status">): string {
  const status = response.status === 0 ? "a redirect" : `HTTP ${response.status}`;
  return `the endpoint answered ${status}: redirects are not followed, nothing was sent to the target`;
}
