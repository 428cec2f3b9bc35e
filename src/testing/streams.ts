/**
 * Stream helpers for tests against an emulator (kinesis-mock, LocalStack):
 * a client for it, stream creation that waits until the stream is ACTIVE, and
 * a read-back of every user record, deaggregated.
 * @module
 */
import { KinesisClient } from "../aws/kinesis_client.ts";
import { readStream } from "../aws/read_stream.ts";
import { deaggregate } from "../format/deaggregate.ts";

/**
 * Dummy credentials emulators accept: kinesis-mock checks only the shape of
 * the signature, and LocalStack picks its account from a 12-digit key id.
 */
export const EMULATOR_CREDENTIALS = {
  accessKeyId: "000000000000",
  secretAccessKey: "emulators-ignore-the-signature",
} as const;

/** Where an emulator listens: `startKinesisMock()`'s result fits. */
export interface EmulatorEndpoint {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /**
   * Region the streams live in.
   * @default {"us-east-1"}
   */
  region?: string;
}

/**
 * A {@link KinesisClient} for an emulator, with {@link EMULATOR_CREDENTIALS}.
 *
 * @example
 * ```ts ignore
 * import { emulatorClient, startKinesisMock } from "@kpl/kinesis-producer/testing";
 * const mock = await startKinesisMock();
 * const client = emulatorClient(mock);
 * ```
 */
export function emulatorClient(emulator: EmulatorEndpoint): KinesisClient {
  return new KinesisClient({
    endpoint: emulator.endpoint,
    region: emulator.region ?? "us-east-1",
    credentials: EMULATOR_CREDENTIALS,
  });
}

/** Options for {@link createStream}. */
export interface CreateStreamOptions {
  /**
   * Shards of the new stream.
   * @default {1}
   */
  shards?: number;
  /**
   * Longest wait for the stream to become ACTIVE, in ms.
   * @default {60000}
   */
  timeoutMs?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}

/**
 * Creates `streamName` and resolves once it is ACTIVE.
 *
 * @throws {KinesisError} `ResourceInUseException` when it exists; `TimeoutError` when it does not become ACTIVE in time.
 */
export async function createStream(
  client: KinesisClient,
  streamName: string,
  options: CreateStreamOptions = {},
): Promise<void> {
  const { shards = 1, timeoutMs = 60_000, signal } = options;
  await client.createStream({ streamName, shardCount: shards }, { signal });
  await client.waitForStreamActive({ streamName, intervalMs: 200, timeoutMs, signal });
}

/** One user record read back: its bytes and where Kinesis stored it. */
export interface ReadRecord {
  /** The record's bytes, exactly as put. */
  data: Uint8Array;
  /** Its partition key (from the aggregate's table). */
  partitionKey: string;
  /** The shard that stored it. */
  shardId: string;
  /** The Kinesis record's sequence number (shared by an aggregate's records). */
  sequenceNumber: string;
  /** Position inside the aggregate: KCL's sub-sequence number. */
  subSequenceNumber: number;
  /** False for a record that was not an aggregate. */
  aggregated: boolean;
}

/**
 * Reads every record of `streamName` from the start, shard by shard,
 * deaggregated: what a KCL consumer would see. For emulator-sized streams (it
 * reads to the tip without the pauses real Kinesis asks for).
 *
 * @example
 * ```ts ignore
 * import { emulatorClient, readRecords } from "@kpl/kinesis-producer/testing";
 * const records = await readRecords(emulatorClient(mock), "events");
 * console.log(records.map((r) => new TextDecoder().decode(r.data)));
 * ```
 */
export async function readRecords(
  client: KinesisClient,
  streamName: string,
  signal?: AbortSignal,
): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for await (const { shard, record } of readStream(client, { streamName }, signal)) {
    for (const user of deaggregate(record.data, record.partitionKey)) {
      out.push({
        data: user.data,
        partitionKey: user.partitionKey,
        shardId: shard.shardId,
        sequenceNumber: record.sequenceNumber,
        subSequenceNumber: user.subSequenceNumber,
        aggregated: user.aggregated,
      });
    }
  }
  return out;
}
