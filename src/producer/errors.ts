/**
 * Producer errors.
 * @module
 */

/** The producer is closed, or its close deadline passed before a record could be delivered. */
export class ProducerClosedError extends Error {
  /** Always `"ProducerClosed"`. */
  readonly code = "ProducerClosed";
  /** Nothing to retry on a closed producer. */
  readonly retryable = false;

  /** Creates the error with what could not be done. */
  constructor(message: string) {
    super(message);
    this.name = "ProducerClosedError";
  }
}
