/**
 * The `logger` option: the AWS SDK v3's logger shape.
 * @module
 */

/**
 * Where the producer says things: the AWS SDK v3's `Logger` shape, so
 * `console`, pino, winston or the SDK's own loggers fit. Messages never hold
 * record data or secrets.
 */
export interface Logger {
  /** Per-call detail. */
  debug(...content: unknown[]): void;
  /** Lifecycle events. */
  info(...content: unknown[]): void;
  /** Something the caller should look at. */
  warn(...content: unknown[]): void;
  /** Records that failed without an `onFailure`; callbacks that threw. */
  error(...content: unknown[]): void;
}

const noop = (): void => {};

/** The default: silent except warnings and errors, which go to `console.warn`/`console.error`. */
export const defaultLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (...content: unknown[]) => console.warn(...content),
  error: (...content: unknown[]) => console.error(...content),
};
