/**
 * Reads a whole stream back, shard by shard, from TRIM_HORIZON until caught up.
 * For tools, tests and emulator-sized streams: it polls without the pauses real
 * Kinesis asks for (5 GetRecords/s per shard) and ends at the tip.
 * @module
 */
import type { KinesisClient, KinesisRecord, Shard, StreamTarget } from "./kinesis_client.ts";

/** One Kinesis record and the shard that stored it. */
export interface ShardRecord {
  /** The shard, with its hash key range. */
  shard: Shard;
  /** The record as stored (for this library: usually one aggregate). */
  record: KinesisRecord;
}

/** Yields every record of every shard, shard after shard, in each shard's order. */
export async function* readStream(
  client: KinesisClient,
  target: StreamTarget,
  signal?: AbortSignal,
): AsyncGenerator<ShardRecord> {
  for (const shard of await client.listShards(target, { signal })) {
    let iterator: string | undefined = await client.getShardIterator({
      ...target,
      shardId: shard.shardId,
      shardIteratorType: "TRIM_HORIZON",
    }, { signal });
    while (iterator) {
      const page = await client.getRecords({ shardIterator: iterator, limit: 10_000 }, { signal });
      for (const record of page.records) yield { shard, record };
      // Caught up: an empty page at the tip. A page can be empty while behind, hence both tests.
      if (page.records.length === 0 && !(page.millisBehindLatest! > 0)) break;
      iterator = page.nextShardIterator;
    }
  }
}
