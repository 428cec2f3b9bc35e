/**
 * The consumer side: Kinesis records in any of the shapes code meets them
 * (a Lambda Kinesis event, a `GetRecords` JSON response, the SDK v3's
 * `Uint8Array` records, this library's `getRecords`), out come the user
 * records, each with its partition key, sequence and sub-sequence number.
 *
 * Aggregated and plain records may be mixed. A record that has the KPL magic
 * but fails its MD5 or does not parse comes back whole, as KCL hands it on,
 * with `error` set: one bad record never throws away its batch.
 * @module
 */
import { decodeBase64 } from "../aws/base64.ts";
import { gunzip, type RecordCompression } from "../format/compression.ts";
import { deaggregate } from "../format/deaggregate.ts";
import { AggregateFormatError } from "../format/errors.ts";

/**
 * One record of a Lambda Kinesis event (`event.Records[i]`), the fields this
 * library reads. Structurally compatible with `@types/aws-lambda`'s
 * `KinesisStreamRecord`, without depending on it.
 */
export interface LambdaKinesisRecord {
  /** The Kinesis record. */
  kinesis: {
    /** Record data, base64. */
    data: string;
    /** The PutRecord partition key. */
    partitionKey: string;
    /** The record's sequence number. */
    sequenceNumber: string;
    /** Arrival time, in seconds since the epoch (with a fraction). */
    approximateArrivalTimestamp?: number;
  };
  /** `shardId-…:sequenceNumber`, as Lambda sets it. */
  eventID?: string;
  /** The stream's ARN. */
  eventSourceARN?: string;
}

/** A Lambda Kinesis event: what a Kinesis-triggered handler receives. */
export interface LambdaKinesisEvent {
  /** The batch, in shard order. */
  Records: readonly LambdaKinesisRecord[];
}

/**
 * A record from a `GetRecords` response: `Data` is base64 in the JSON wire
 * format and a `Uint8Array` in the AWS SDK v3 (`@aws-sdk/client-kinesis`).
 */
export interface GetRecordsRecord {
  /** Record data. */
  Data: string | Uint8Array;
  /** The PutRecord partition key. */
  PartitionKey: string;
  /** The record's sequence number. */
  SequenceNumber: string;
  /** Arrival time: a `Date` (SDK) or seconds since the epoch (JSON). */
  ApproximateArrivalTimestamp?: Date | number;
}

/** A record as this library's `KinesisClient.getRecords` returns it. */
export interface ClientKinesisRecord {
  /** Record data. */
  data: Uint8Array;
  /** The PutRecord partition key. */
  partitionKey: string;
  /** The record's sequence number. */
  sequenceNumber: string;
  /** Arrival time. */
  approximateArrivalTimestamp?: Date;
}

/** Any record shape {@link deaggregateRecords} reads; shapes may be mixed. */
export type KinesisRecordInput = LambdaKinesisRecord | GetRecordsRecord | ClientKinesisRecord;

/** A user record read back from a Kinesis record. */
export interface ConsumedRecord {
  /** The user record's data (decompressed, with `decompress`). */
  data: Uint8Array;
  /** Its partition key: from the aggregate's table, or the Kinesis record's own key. */
  partitionKey: string;
  /** Its explicit hash key, when the producer set one. */
  explicitHashKey?: string;
  /** The Kinesis record's sequence number, shared by every user record inside it. */
  sequenceNumber: string;
  /** Position inside the aggregate (KCL's sub-sequence number); 0 for a plain record. */
  subSequenceNumber: number;
  /** True when it came out of a KPL aggregate. */
  aggregated: boolean;
  /** When Kinesis accepted the record, in ms since the epoch, when the input says. */
  approximateArrivalTimestamp?: number;
  /**
   * Set when the Kinesis record has the KPL magic but fails its MD5 or does not
   * parse (`AggregateFormatError`; `data` is then the whole Kinesis record), or
   * when `decompress` could not decompress it (`DecompressionError`; `data` is
   * then as stored). Report it, for example as a Lambda batch item failure
   * with `sequenceNumber`.
   */
  error?: Error;
}

/** Options for {@link deaggregateRecords}, {@link deaggregateEvent} and `DeaggregationStream`. */
export interface DeaggregateRecordsOptions {
  /**
   * Undo the producer's per-record `compression`: every user record whose data
   * is not valid gzip gets a `DecompressionError` in `error`.
   * @default {undefined (no decompression)}
   */
  decompress?: RecordCompression;
}

interface Normalized {
  data: Uint8Array;
  partitionKey: string;
  sequenceNumber: string;
  arrival?: number;
}

function toMillis(value: Date | number | undefined, seconds: boolean): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return value.getTime();
  return typeof value === "number" ? (seconds ? Math.round(value * 1000) : value) : undefined;
}

function bytesOf(data: string | Uint8Array, what: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return decodeBase64(data);
  throw new TypeError(`Cannot read ${what}: data must be a base64 string or a Uint8Array`);
}

/** Reads one record of any supported shape; throws `TypeError` for anything else. */
function normalize(input: KinesisRecordInput): Normalized {
  if (input && typeof input === "object") {
    if ("kinesis" in input && input.kinesis) {
      const k = input.kinesis;
      return {
        data: bytesOf(k.data, "a Lambda Kinesis record"),
        partitionKey: k.partitionKey,
        sequenceNumber: k.sequenceNumber,
        arrival: toMillis(k.approximateArrivalTimestamp, true),
      };
    }
    if ("Data" in input) {
      return {
        data: bytesOf(input.Data, "a GetRecords record"),
        partitionKey: input.PartitionKey,
        sequenceNumber: input.SequenceNumber,
        arrival: toMillis(input.ApproximateArrivalTimestamp, true),
      };
    }
    if ("data" in input) {
      return {
        data: bytesOf(input.data, "a Kinesis record"),
        partitionKey: input.partitionKey,
        sequenceNumber: input.sequenceNumber,
        arrival: toMillis(input.approximateArrivalTimestamp, false),
      };
    }
  }
  throw new TypeError(
    "Cannot read a Kinesis record: expected { kinesis: { data } }, { Data } or { data }",
  );
}

/**
 * The user records inside one Kinesis record, synchronously and without
 * decompression: the building block of the others.
 */
export function deaggregateRecordSync(input: KinesisRecordInput): ConsumedRecord[] {
  const { data, partitionKey, sequenceNumber, arrival } = normalize(input);
  let inner;
  let error: Error | undefined;
  try {
    inner = deaggregate(data, partitionKey, { strict: true });
  } catch (e) {
    if (!(e instanceof AggregateFormatError)) throw e;
    error = e;
    inner = deaggregate(data, partitionKey);
  }
  const out: ConsumedRecord[] = new Array(inner.length);
  for (let i = 0; i < inner.length; i++) {
    const r = inner[i];
    const record: ConsumedRecord = {
      data: r.data,
      partitionKey: r.partitionKey,
      sequenceNumber,
      subSequenceNumber: r.subSequenceNumber,
      aggregated: r.aggregated,
    };
    if (r.explicitHashKey !== undefined) record.explicitHashKey = r.explicitHashKey;
    if (arrival !== undefined) record.approximateArrivalTimestamp = arrival;
    if (error) record.error = error;
    out[i] = record;
  }
  return out;
}

/** Decompresses `records` in place; a failure lands in that record's `error`. */
export async function decompressRecords(
  records: ConsumedRecord[],
  compression: RecordCompression,
): Promise<void> {
  if (compression !== "gzip") {
    throw new RangeError(`Cannot decompress ${compression}: only "gzip" is supported`);
  }
  await Promise.all(records.map(async (record) => {
    if (record.error) return; // a broken aggregate: hand it on as stored
    try {
      record.data = await gunzip(record.data);
    } catch (error) {
      record.error = error as Error;
    }
  }));
}

/**
 * Reads user records out of Kinesis records of any supported shape (mixed
 * aggregated and plain; Lambda, GetRecords JSON, SDK v3, this library's
 * client), in order. Never rejects for a bad record: see
 * {@link ConsumedRecord.error}. Rejects with a `TypeError` for input that is
 * not a Kinesis record at all.
 *
 * @example Records from the AWS SDK v3's GetRecords
 * ```ts
 * import { aggregate, deaggregateRecords } from "@kpl/kinesis-producer";
 * const [agg] = aggregate([{ data: new TextEncoder().encode("a") }, { data: new Uint8Array([1]) }]);
 * const records = await deaggregateRecords([
 *   { Data: agg.data, PartitionKey: agg.partitionKey, SequenceNumber: "4960" },
 * ]);
 * if (records.length !== 2 || records[1].subSequenceNumber !== 1) throw new Error("unexpected");
 * ```
 */
export async function deaggregateRecords(
  records: Iterable<KinesisRecordInput>,
  options: DeaggregateRecordsOptions = {},
): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  for (const record of records) {
    for (const r of deaggregateRecordSync(record)) out.push(r);
  }
  if (options.decompress) await decompressRecords(out, options.decompress);
  return out;
}

/**
 * The Lambda helper: the user records in a Kinesis-triggered Lambda's event,
 * with partition keys, sequence and sub-sequence numbers. A record whose
 * aggregate is corrupt comes back whole with `error` set, so the handler can
 * report it as a batch item failure instead of failing the whole batch.
 *
 * @example A handler with partial batch responses
 * ```ts
 * import { deaggregateEvent, type LambdaKinesisEvent } from "@kpl/kinesis-producer";
 *
 * export async function handler(event: LambdaKinesisEvent) {
 *   const failures = new Set<string>();
 *   for (const record of await deaggregateEvent(event)) {
 *     if (record.error) failures.add(record.sequenceNumber);
 *     else console.log(record.partitionKey, new TextDecoder().decode(record.data));
 *   }
 *   return { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) };
 * }
 * ```
 */
export function deaggregateEvent(
  event: LambdaKinesisEvent,
  options: DeaggregateRecordsOptions = {},
): Promise<ConsumedRecord[]> {
  if (!event || !Array.isArray(event.Records)) {
    return Promise.reject(
      new TypeError("Cannot read the Lambda event: it has no Records array"),
    );
  }
  return deaggregateRecords(event.Records, options);
}
