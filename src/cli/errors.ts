/**
 * Exit codes and the two errors the CLI reports as one line, without a stack.
 * @module
 */

/** Process exit codes, as `--help` documents them. */
export const ExitCode = {
  /** Every record was delivered (and, with --local, read back). */
  Ok: 0,
  /** One or more records failed (see the dead-letter file), or --local found a mismatch. */
  Failed: 1,
  /** Invalid configuration or usage: flags, region, credentials, dead-letter file. */
  Usage: 2,
  /** An input file or stdin could not be read. */
  Input: 3,
  /** The environment failed: the emulator did not start, the listen address was taken. */
  Environment: 4,
  /**
   * Records were lost: neither delivered nor written to the dead-letter file
   * (it could not be written: disk full, I/O error). Wins over every other code.
   */
  Lost: 5,
  /** Stopped by SIGINT after delivering everything that was read. */
  Interrupted: 130,
  /** Stopped by SIGTERM after delivering everything that was read. */
  Terminated: 143,
} as const;

/** Invalid flags or configuration: exit code 2. */
export class UsageError extends Error {
  /** Always {@link ExitCode.Usage}. */
  readonly exitCode: number = ExitCode.Usage;

  /** `message` is shown as is; it must not contain a secret. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** An input could not be opened or read: exit code 3. */
export class InputError extends Error {
  /** Always {@link ExitCode.Input}. */
  readonly exitCode: number = ExitCode.Input;

  /** `message` names the input and the cause. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InputError";
  }
}

/** The environment failed (emulator, listen socket): exit code 4. */
export class EnvironmentError extends Error {
  /** Always {@link ExitCode.Environment}. */
  readonly exitCode: number = ExitCode.Environment;

  /** `message` says what could not start. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EnvironmentError";
  }
}
