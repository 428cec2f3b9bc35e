/**
 * Reading Kinesis answers: decoded wire objects (PascalCase) into the typed
 * outputs of `kinesis_types.ts`. A shape that cannot be read is a fatal
 * `InvalidResponse` {@link KinesisError}, except for `PutRecords`, where it is
 * retryable: nothing in such an answer says what was stored.
 * @module
 */
import { KinesisError } from "./errors.ts";
import type {
  GetRecordsOutput,
  KinesisRecord,
  PutRecordOutput,
  PutRecordsOutput,
  PutRecordsResultEntry,
  Shard,
  StreamSummary,
} from "./kinesis_types.ts";
import type { WireObject } from "./wire_codec.ts";
import {
  asObject,
  optList,
  optNumber,
  optObject,
  optString,
  reqData,
  reqObject,
  reqString,
  ShapeError,
  toDate,
} from "./wire_shape.ts";

/** Runs `build`, turning a {@link ShapeError} into a fatal `InvalidResponse` for `action`. */
export function shaped<T>(action: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    throw new KinesisError({
      code: "InvalidResponse",
      message: `unexpected response shape: ${e.message}`,
      action,
      kind: "fatal",
    });
  }
}

/** A retryable `InvalidResponse` for a whole `PutRecords` call. */
export function invalidPutRecords(message: string, cause?: unknown): KinesisError {
  return new KinesisError({
    code: "InvalidResponse",
    message,
    action: "PutRecords",
    kind: "transient",
    cause,
  });
}

/** A `PutRecord` answer. */
export function readPutRecord(out: WireObject): PutRecordOutput {
  return shaped("PutRecord", () => ({
    shardId: reqString(out, "ShardId"),
    sequenceNumber: reqString(out, "SequenceNumber"),
    encryptionType: optString(out, "EncryptionType"),
  }));
}

/**
 * A `PutRecords` answer to `sent` entries. The entries decide what failed;
 * `reported` is the answer's own `FailedRecordCount`, for the caller to note
 * a disagreement. Throws {@link invalidPutRecords} when the entries cannot be
 * read or are not one per request entry.
 */
export function readPutRecords(
  out: WireObject,
  sent: number,
): { output: PutRecordsOutput; reported: number | undefined } {
  let failed = 0;
  let records: PutRecordsResultEntry[];
  try {
    records = optList(out, "Records").map((raw): PutRecordsResultEntry => {
      const r = asObject(raw, "Records entry");
      const code = optString(r, "ErrorCode");
      if (code !== undefined && code !== "") {
        failed++;
        return { errorCode: code, errorMessage: optString(r, "ErrorMessage") ?? "" };
      }
      return {
        shardId: reqString(r, "ShardId"),
        sequenceNumber: reqString(r, "SequenceNumber"),
      };
    });
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    throw invalidPutRecords(`unexpected response shape: ${e.message}`);
  }
  if (records.length !== sent) {
    throw invalidPutRecords(`${records.length} results for ${sent} entries; none can be trusted`);
  }
  return {
    output: {
      failedRecordCount: failed,
      records,
      encryptionType: optString(out, "EncryptionType"),
    },
    reported: optNumber(out, "FailedRecordCount"),
  };
}

/** A `DescribeStreamSummary` answer. */
export function readStreamSummary(out: WireObject): StreamSummary {
  return shaped("DescribeStreamSummary", () => {
    const s = reqObject(out, "StreamDescriptionSummary");
    return {
      streamName: reqString(s, "StreamName"),
      streamARN: reqString(s, "StreamARN"),
      streamStatus: reqString(s, "StreamStatus"),
      streamMode: optString(optObject(s, "StreamModeDetails") ?? {}, "StreamMode"),
      retentionPeriodHours: optNumber(s, "RetentionPeriodHours"),
      streamCreationTimestamp: toDate(s.StreamCreationTimestamp),
      openShardCount: optNumber(s, "OpenShardCount"),
      consumerCount: optNumber(s, "ConsumerCount"),
      encryptionType: optString(s, "EncryptionType"),
      keyId: optString(s, "KeyId"),
      maxRecordSizeInKiB: optNumber(s, "MaxRecordSizeInKiB"),
      recordDistributionStrategy: optString(s, "RecordDistributionStrategy"),
    };
  });
}

/** One page of a `ListShards` answer. */
export function readShardsPage(out: WireObject): Shard[] {
  return shaped("ListShards", () =>
    optList(out, "Shards").map((raw): Shard => {
      const s = asObject(raw, "shard");
      const h = reqObject(s, "HashKeyRange");
      const q = reqObject(s, "SequenceNumberRange");
      return {
        shardId: reqString(s, "ShardId"),
        parentShardId: optString(s, "ParentShardId"),
        adjacentParentShardId: optString(s, "AdjacentParentShardId"),
        hashKeyRange: {
          startingHashKey: reqString(h, "StartingHashKey"),
          endingHashKey: reqString(h, "EndingHashKey"),
        },
        sequenceNumberRange: {
          startingSequenceNumber: reqString(q, "StartingSequenceNumber"),
          endingSequenceNumber: optString(q, "EndingSequenceNumber"),
        },
      };
    }));
}

/** A `GetRecords` answer. */
export function readGetRecords(out: WireObject): GetRecordsOutput {
  return shaped("GetRecords", () => {
    const records = optList(out, "Records").map((raw): KinesisRecord => {
      const r = asObject(raw, "record");
      return {
        sequenceNumber: reqString(r, "SequenceNumber"),
        approximateArrivalTimestamp: toDate(r.ApproximateArrivalTimestamp),
        data: reqData(r, "Data"),
        partitionKey: reqString(r, "PartitionKey"),
        encryptionType: optString(r, "EncryptionType"),
      };
    });
    return {
      records,
      nextShardIterator: optString(out, "NextShardIterator"),
      millisBehindLatest: optNumber(out, "MillisBehindLatest"),
    };
  });
}
