/**
 * A PutRecord + PutRecords client that plays a script per call: a whole-call
 * step (as in scripted_client.ts), or one outcome per entry. It keeps what was
 * stored, deaggregated (or raw, for unaggregated entries), per partition key.
 */
import type {
  PutRecordInput,
  PutRecordOutput,
  PutRecordsInput,
  PutRecordsOutput,
  PutRecordsRequestEntry,
  PutRecordsResultEntry,
  RequestOptions,
} from "../../src/aws/kinesis_client.ts";
import type { PutRecordClient } from "../../src/producer/options.ts";
import { deaggregate } from "../../mod.ts";
import { errorFor, type Step } from "./scripted_client.ts";

/** What one entry gets: stored, or refused with this code. */
export type EntryStep = "ok" | "throttle" | "internal" | "unknown";

/** A call's script: a whole-call step, or one step per entry (PutRecords only). */
export type CallScript = Step | EntryStep[];

/** One call as the client saw it. */
export interface BatchCall {
  action: "PutRecord" | "PutRecords";
  entries: PutRecordsRequestEntry[];
  script: CallScript;
}

const ENTRY_ERRORS: Record<Exclude<EntryStep, "ok">, [string, string]> = {
  throttle: ["ProvisionedThroughputExceededException", "Rate exceeded for shard"],
  internal: ["InternalFailure", "Internal service failure."],
  unknown: ["SomeFutureException", "a code this library does not know"],
};

/** Plays `script(callIndex, action, entries)` for each call. */
export class BatchClient implements PutRecordClient {
  readonly calls: BatchCall[] = [];
  /** Stored user records' data, in storage order. */
  readonly delivered: Uint8Array[] = [];
  /** Stored user records' data per partition key, in storage order. */
  readonly byKey = new Map<string, Uint8Array[]>();
  #seq = 0;

  constructor(
    private readonly script: (
      call: number,
      action: "PutRecord" | "PutRecords",
      entries: PutRecordsRequestEntry[],
    ) => CallScript,
    /** Whether entries are KPL aggregates (else raw user records). */
    private readonly aggregated = true,
  ) {}

  #store(e: PutRecordsRequestEntry): { shardId: string; sequenceNumber: string } {
    const records = this.aggregated
      ? deaggregate(e.data, e.partitionKey, { strict: true })
      : [{ data: e.data, partitionKey: e.partitionKey }];
    for (const r of records) {
      this.delivered.push(r.data);
      const list = this.byKey.get(r.partitionKey) ?? [];
      list.push(r.data);
      this.byKey.set(r.partitionKey, list);
    }
    return { shardId: "shardId-000000000000", sequenceNumber: String(++this.#seq) };
  }

  #whole(step: Step): Promise<never> | undefined {
    if (step === "ok") return undefined;
    return Promise.reject(errorFor(step));
  }

  putRecord(input: PutRecordInput, _options?: RequestOptions): Promise<PutRecordOutput> {
    const entries = [input];
    const script = this.script(this.calls.length, "PutRecord", entries);
    this.calls.push({ action: "PutRecord", entries, script });
    if (Array.isArray(script)) {
      const step = script[0];
      if (step !== "ok") {
        return Promise.reject(
          errorFor(step === "throttle" ? "throttle" : step === "internal" ? "500" : "validation"),
        );
      }
      return Promise.resolve(this.#store(input));
    }
    return this.#whole(script) ?? Promise.resolve(this.#store(input));
  }

  putRecords(input: PutRecordsInput, _options?: RequestOptions): Promise<PutRecordsOutput> {
    const entries = [...input.records];
    const script = this.script(this.calls.length, "PutRecords", entries);
    this.calls.push({ action: "PutRecords", entries, script });
    if (!Array.isArray(script)) {
      const whole = this.#whole(script);
      if (whole) return whole;
    }
    const steps = Array.isArray(script) ? script : entries.map(() => "ok" as EntryStep);
    let failed = 0;
    const records = entries.map((e, i): PutRecordsResultEntry => {
      const step = steps[i] ?? "ok";
      if (step === "ok") return this.#store(e);
      failed++;
      const [errorCode, errorMessage] = ENTRY_ERRORS[step];
      return { errorCode, errorMessage };
    });
    return Promise.resolve({ failedRecordCount: failed, records });
  }
}
