/** A PutRecord client that plays a script: success, AWS errors, network faults, hangs. */
import { KinesisError } from "../../src/aws/errors.ts";
import type {
  PutRecordInput,
  PutRecordOutput,
  RequestOptions,
} from "../../src/aws/kinesis_client.ts";
import type { PutRecordClient } from "../../src/producer/options.ts";
import { deaggregate } from "../../mod.ts";

/** What one call does. */
export type Step =
  | "ok"
  | "throttle"
  | "500"
  | "network"
  | "timeout"
  | "expired"
  | "validation"
  | "hang";

/** Builds the error a real client would throw for `step`. */
export function errorFor(step: Step): KinesisError {
  switch (step) {
    case "throttle":
      return new KinesisError({
        code: "ProvisionedThroughputExceededException",
        message: "Rate exceeded",
        status: 400,
      });
    case "500":
      return new KinesisError({ code: "InternalFailure", message: "boom", status: 500 });
    case "network":
      return new KinesisError({
        code: "NetworkError",
        message: "connection reset",
        kind: "transient",
      });
    case "timeout":
      return new KinesisError({ code: "TimeoutError", message: "timed out", kind: "transient" });
    case "expired":
      return new KinesisError({ code: "ExpiredTokenException", message: "expired", status: 400 });
    case "validation":
      return new KinesisError({ code: "ValidationException", message: "bad", status: 400 });
    default:
      throw new Error(`no error for ${step}`);
  }
}

/** One call as the client saw it. */
export interface Call {
  input: PutRecordInput;
  step: Step;
  at: number;
}

/** Plays `script(callIndex, input)` for each call and keeps what was delivered. */
export class ScriptedClient implements PutRecordClient {
  readonly calls: Call[] = [];
  /** Payloads of delivered user records, in delivery order. */
  readonly delivered: Uint8Array[] = [];
  /** Aggregates delivered. */
  readonly chunks: PutRecordInput[] = [];
  #hung: (() => void)[] = [];

  /** Completes every hanging call successfully. */
  release(): void {
    for (const finish of this.#hung.splice(0)) finish();
  }

  #ok(input: PutRecordInput): PutRecordOutput {
    this.chunks.push(input);
    for (const r of deaggregate(input.data, input.partitionKey, { strict: true })) {
      this.delivered.push(r.data);
    }
    return { shardId: "shardId-000000000000", sequenceNumber: String(++this.#seq) };
  }
  #seq = 0;

  constructor(
    private readonly script: (call: number, input: PutRecordInput) => Step,
    private readonly now: () => number = () => 0,
  ) {}

  putRecord(input: PutRecordInput, options: RequestOptions = {}): Promise<PutRecordOutput> {
    const step = this.script(this.calls.length, input);
    this.calls.push({ input, step, at: this.now() });
    if (step === "ok") return Promise.resolve(this.#ok(input));
    if (step === "hang") {
      return new Promise((resolve, reject) => {
        const fail = () =>
          reject(new KinesisError({ code: "AbortError", message: "aborted", kind: "fatal" }));
        if (options.signal?.aborted) return fail();
        options.signal?.addEventListener("abort", fail, { once: true });
        this.#hung.push(() => {
          options.signal?.removeEventListener("abort", fail);
          resolve(this.#ok(input));
        });
      });
    }
    return Promise.reject(errorFor(step));
  }
}
