/**
 * Stream awareness in the producer: when to describe the stream, and how
 * what it says is applied (the record limit, aggregation on an `AUTO`
 * stream, the shard map, chunk placement when spreading), including the
 * wrong-shard rule. The describing itself and the decisions are in
 * `stream_facts.ts`; the producer's buffers are reached only through
 * {@link StreamHost}.
 * @module
 */
import { deaggregate } from "../format/deaggregate.ts";
import { partitionKeyHash } from "../format/keys.ts";
import { bigintToWords, type ShardMap } from "../format/shard_map.ts";
import { DEFAULT_MAX_RECORD_BYTES } from "../format/limits.ts";
import { type Congestion, shardPredictor } from "./congestion.ts";
import { type Entry, isAggregate } from "./entry.ts";
import type { ResolvedOptions } from "./options.ts";
import {
  decide,
  initialFacts,
  staleFactsHint,
  StreamDescriber,
  type StreamFacts,
  type StreamFactsClient,
  type StreamSnapshot,
} from "./stream_facts.ts";

// Keyed mode without a map (the Aggregator's withoutMap: "hashRange"); the
// README's Limits give the numbers.
const NO_MAP =
  "keyed mode groups records into 1,024 fixed hash ranges, each chunk and its records carrying the range's explicit hash key (KCL drops none; a key keeps one shard and its order, but with N shards about N/2,048 of keys land on a neighbour of their own shard)";

/** What stream awareness may do to the producer's buffers. */
export interface StreamHost {
  /** Scheduler windows, for the shard predictor and spreading's rates. */
  readonly congestion: Congestion;
  /** Cuts the open aggregates into entries (held until the stream is described). */
  cutAggregates(): void;
  /** Replaces the aggregator with one built from the current options. */
  rebuildAggregator(): void;
  /** Groups later records by `map` (as without a map when `undefined`); aggregates open under the old one become entries. */
  regroup(map: ShardMap | undefined): void;
  /** Starts calls for what is queued. */
  pump(): void;
  /** Lets puts in and fails every record held or waiting with `error`; later puts reject. */
  refuseAll(error: Error): void;
  /** Whether {@link StreamHost.refuseAll} happened (or another configuration error). */
  refused(): boolean;
  /** Re-admits the records of held (unsent) aggregates one by one. */
  unpackHeld(): void;
  /** Re-admits the records of queued, not yet sent aggregates one by one. */
  unpackQueued(): void;
  /** Lets puts in and sends what was held. */
  open(): void;
  /** Whether `entry` is still unsettled. */
  isOutstanding(entry: Entry): boolean;
  /** Reports `entry` delivered and settles it. */
  delivered(entry: Entry, shardId: string, sequenceNumber: string): void;
  /** Sends `entry`'s records again (KCL would drop it) and settles it once they settle. */
  resend(entry: Entry): void;
}

/** Describes the stream when needed and applies the answers through a {@link StreamHost}. */
export class StreamAwareness {
  readonly #o: ResolvedOptions;
  readonly #host: StreamHost;
  /** Absent when the stream need not or cannot be asked (made later if a caller's map proves stale). */
  #describer: StreamDescriber | undefined;
  readonly #client: StreamFactsClient;
  readonly #signal: AbortSignal;
  readonly #facts: StreamFacts;
  #describing = false;
  #lastRefresh: StreamSnapshot | undefined;
  // When the next refresh on a timer is due (clock ms); set once the stream is first described.
  #refreshDueAt = Infinity;
  // Spreading: the map the credits belong to, and each shard's credit.
  #spreadMap: ShardMap | undefined;
  #spreadCredit = new Float64Array(0);
  readonly #warned = new Set<string>();

  /** Makes no call; `signal` cancels describe calls on close. */
  constructor(o: ResolvedOptions, client: object, signal: AbortSignal, host: StreamHost) {
    this.#o = o;
    this.#host = host;
    const facts = client as StreamFactsClient;
    this.#client = facts;
    this.#signal = signal;
    this.#facts = initialFacts(o.aggregation === "on");
    this.#facts.mapShards = o.shards?.size ?? 0;
    // Asked only when the answer can change what is sent: with aggregation
    // on/off given, no strict order, no shard listing and no limit above the
    // default, the stream has nothing to say that matters.
    const needed = o.aggregationWish === "auto" || o.ordered || o.autoShards ||
      (o.maxRecordBytesWish ?? 0) > DEFAULT_MAX_RECORD_BYTES;
    const able = facts.describeStreamSummary || (o.autoShards && facts.listShards);
    if (needed && able) {
      this.#describer = new StreamDescriber(facts, o.target, {
        listShards: o.autoShards,
        now: () => o.clock.now(),
        signal,
      });
    } else {
      this.#facts.check = needed ? "unsupported" : "skipped";
    }
  }

  /** Whether the stream is described before sends (so they wait for it). */
  get describes(): boolean {
    return this.#describer !== undefined;
  }

  /** A copy of what is known, for stats. */
  get facts(): StreamFacts {
    return { ...this.#facts };
  }

  /** Describes the stream once, then applies what it says and lets puts in. */
  start(): void {
    const describer = this.#describer!;
    if (this.#describing) return;
    this.#describing = true;
    describer.describe().then((snap) => this.#applyFirst(snap)).catch((error) => {
      // Only a bug lands here: let records flow rather than wait forever.
      this.#warn(`stream check failed: ${error instanceof Error ? error.message : error}`);
      this.#applyFirst({ check: "failed", listing: "none" });
    });
  }

  /**
   * A put failed with `failure`: if it says the stream may have changed, the
   * stream is described again (rate-limited, single flight) so later records
   * follow it; the failed ones stay reported.
   */
  failed(failure: Error): void {
    if (this.#describer && staleFactsHint(failure, this.#o.ordered)) {
      this.#describer.refresh()?.then((snap) => this.#applyRefresh(snap), () => {});
    }
  }

  /**
   * Called as aggregates are cut (so only while records flow): describes the
   * stream again once `describeIntervalMs` has passed since the last look.
   */
  tick(): void {
    if (this.#refreshDueAt === Infinity) return;
    const now = this.#o.clock.now();
    if (now < this.#refreshDueAt) return;
    this.#refreshDueAt = now + this.#o.describeIntervalMs;
    this.#describer!.refresh()?.then((snap) => this.#applyRefresh(snap), () => {});
  }

  #applyFirst(snap: StreamSnapshot): void {
    const o = this.#o;
    const host = this.#host;
    const facts = this.#facts;
    this.#recordSnapshot(snap);
    if (o.describeIntervalMs > 0) this.#refreshDueAt = o.clock.now() + o.describeIntervalMs;
    const decision = this.#decide(snap);
    const auto = snap.summary?.recordDistributionStrategy === "AUTO";
    if (o.autoShards && snap.listing !== "listed" && !auto) {
      this.#warn(
        o.spread
          ? `cannot list the stream's shards${
            snap.listing === "denied" ? " (kinesis:ListShards denied)" : ""
          }: spreadOverShards places chunks by random key instead; grant the permission or pass shards`
          : snap.listing === "denied"
          ? `cannot list the stream's shards (kinesis:ListShards denied): ${NO_MAP}; grant the permission or pass shards`
          : `cannot list the stream's shards: ${NO_MAP} until a listing succeeds`,
      );
    }
    if (decision.error) {
      host.refuseAll(decision.error);
      return;
    }
    // Until host.open() below, cut entries stay held.
    this.#takeLimit(decision.maxRecordBytes);
    if (!decision.aggregate && o.aggregation === "on") {
      // The stream places records itself: what was aggregated goes out unaggregated.
      host.cutAggregates();
      o.aggregation = "off";
      host.unpackHeld();
    }
    facts.aggregating = o.aggregation === "on";
    if (snap.map && o.keyed && o.aggregation === "on") this.#installMap(snap.map);
    else if (snap.map) this.#useMap(snap.map);
    host.open();
  }

  #applyRefresh(snap: StreamSnapshot): void {
    // Callers sharing one refresh each hand it over: apply it once.
    if (snap === this.#lastRefresh) return;
    this.#lastRefresh = snap;
    const o = this.#o;
    const host = this.#host;
    this.#recordSnapshot(snap);
    if (
      snap.summary?.recordDistributionStrategy === "AUTO" && o.aggregationWish === "auto" &&
      o.aggregation === "on"
    ) {
      // KCL would drop aggregates stored here: what is not sent yet goes out unaggregated.
      host.cutAggregates();
      o.aggregation = "off";
      this.#facts.aggregating = false;
      host.unpackQueued();
      host.pump();
    }
    if (snap.summary && !host.refused()) {
      const decision = this.#decide(snap);
      if (decision.error) {
        // E.g. strict ordering on a stream that became AUTO: later puts reject.
        host.refuseAll(decision.error);
        return;
      }
      // UpdateMaxRecordSize: what is open ships as built; later records use the new limit.
      if (this.#takeLimit(decision.maxRecordBytes)) host.pump();
    }
    if (snap.map && o.keyed && o.aggregation === "on") this.#installMap(snap.map);
    else if (snap.map && o.spread) this.#useMap(snap.map);
  }

  /** What the stream's answer means for the caller's wishes; its warnings are said here. */
  #decide(snap: StreamSnapshot): ReturnType<typeof decide> {
    const o = this.#o;
    const decision = decide(
      { aggregation: o.aggregationWish, ordered: o.ordered, maxRecordBytes: o.maxRecordBytesWish },
      snap.check,
      snap.summary,
    );
    for (const w of decision.warnings) this.#warn(w);
    return decision;
  }

  /**
   * Takes the stream's record limit when it differs: aggregates built so far
   * ship as built, later ones use the new limit. Returns whether it changed.
   */
  #takeLimit(maxRecordBytes: number | undefined): boolean {
    const o = this.#o;
    if (maxRecordBytes === undefined || maxRecordBytes === o.maxRecordBytes) return false;
    this.#host.cutAggregates();
    o.maxRecordBytes = maxRecordBytes;
    this.#host.rebuildAggregator();
    return true;
  }

  #recordSnapshot(snap: StreamSnapshot): void {
    const facts = this.#facts;
    facts.check = snap.check;
    facts.listing = snap.listing;
    facts.refreshes++;
    const s = snap.summary;
    if (s) {
      facts.status = s.streamStatus;
      facts.mode = s.streamMode;
      facts.openShardCount = s.openShardCount;
      facts.recordDistributionStrategy = s.recordDistributionStrategy;
      facts.maxRecordSizeInKiB = s.maxRecordSizeInKiB;
    }
  }

  /** Default mode: per-shard limits from `map`, and chunk placement when spreading. */
  #useMap(map: ShardMap): void {
    this.#host.congestion.predictor = shardPredictor(map);
    if (!this.#o.spread) return;
    this.#o.shards = map;
    this.#facts.mapShards = map.size;
  }

  /** Groups later records by `map`; aggregates open under the old one ship now. */
  #installMap(map: ShardMap): void {
    this.#o.shards = map;
    this.#facts.mapShards = map.size;
    this.#host.congestion.predictor = shardPredictor(map);
    this.#host.regroup(map);
    this.#host.pump();
  }

  /**
   * Spreading: the explicit hash key (a shard's starting hash key) of the next
   * chunk, or `undefined` (a random key) without a map. Smooth weighted round
   * robin over the open shards, each weighted by its limiter's rate: a shard
   * that throttled recently gets fewer chunks until successes restore it.
   */
  placeChunk(): string | undefined {
    const map = this.#o.shards;
    if (!map || map.size === 0) return undefined;
    const n = map.size;
    if (this.#spreadMap !== map) {
      this.#spreadMap = map;
      this.#spreadCredit = new Float64Array(n);
    }
    const credit = this.#spreadCredit;
    const congestion = this.#host.congestion;
    const now = this.#o.clock.now();
    let total = 0;
    let best = 0;
    for (let i = 0; i < n; i++) {
      const rate = congestion.shard(map.ranges[i].shardId ?? `#${i}`, now).rate;
      credit[i] += rate;
      total += rate;
      if (credit[i] > credit[best]) best = i;
    }
    credit[best] -= total;
    return map.ranges[best].startingHashKey;
  }

  /**
   * A put answer named another shard than predicted: the map is stale (or the
   * stream places records itself). Refreshes the map, then applies the rule:
   * if a record of the aggregate hashes outside the storing shard, KCL drops
   * the whole aggregate, so its records are sent again; otherwise nothing was
   * lost and nothing is re-sent. Returns true when it took over the entry.
   */
  wrongShard(entry: Entry, shardId: string, sequenceNumber: string): boolean {
    this.#facts.wrongShard++;
    if (this.#o.keyed && !this.#o.autoShards && this.#o.shards && isAggregate(entry)) {
      this.#adoptListing(shardId);
    }
    // A shard the map does not know proves it stale: refresh past the rate limit.
    const unknown = (this.#o.shards?.indexOfShardId(shardId) ?? -1) < 0;
    const refresh = this.#describer?.refresh(unknown);
    const aggregated = isAggregate(entry);
    // Only a map the producer keeps itself can be trusted after a refresh; a
    // single record is safe on any shard.
    if (!aggregated || !this.#o.autoShards || !this.#o.keyed) {
      refresh?.then((snap) => this.#applyRefresh(snap), () => {});
      return false;
    }
    const decideWith = (map: ShardMap | undefined) => {
      if (!this.#host.isOutstanding(entry)) return;
      if (insideShard(entry, shardId, map)) {
        this.#host.delivered(entry, shardId, sequenceNumber);
        return;
      }
      // Sent again, re-aggregated under the fresh map: not counted twice in stats.
      this.#facts.recordsResent += entry.records.length;
      this.#host.resend(entry);
    };
    if (refresh) {
      refresh.then((snap) => {
        this.#applyRefresh(snap);
        if (!snap.map && snap.listing !== "none") this.#groupWithoutMap();
        decideWith(snap.map ?? this.#o.shards);
      }, () => decideWith(this.#o.shards));
    } else {
      queueMicrotask(() => decideWith(this.#o.shards));
    }
    return true;
  }

  /**
   * The caller's map is stale (a put landed elsewhere than it predicts), and
   * aggregates grouped by it may hold records KCL drops. From now on the
   * producer lists the shards itself, as with `shards: "auto"`.
   */
  #adoptListing(shardId: string): void {
    const o = this.#o;
    o.autoShards = true;
    this.#describer ??= new StreamDescriber(this.#client, o.target, {
      listShards: true,
      now: () => o.clock.now(),
      signal: this.#signal,
    });
    this.#describer.listShardsFromNowOn();
    this.#warn(
      `the shards passed are stale (a put landed on ${shardId}, which the map does not predict): ` +
        'listing the stream\'s shards from now on; after resharding pass a fresh map, or shards: "auto"',
    );
  }

  /**
   * Listing failed while the map is known stale: group as without a map
   * (every record then carries its aggregate's placement, right on any map).
   */
  #groupWithoutMap(): void {
    if (!this.#o.shards) return;
    this.#o.shards = undefined;
    this.#facts.mapShards = 0;
    this.#host.congestion.predictor = undefined;
    this.#host.regroup(undefined);
    this.#warn(
      "cannot list the stream's shards while the map is stale: keyed mode groups records as without a map; grant kinesis:ListShards",
    );
  }

  #warn(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    try {
      this.#o.onWarning(message);
    } catch {
      // A failing warning sink must not stop delivery.
    }
  }
}

/** Whether every record of `entry` hashes into `shardId`'s range in `map`. */
export function insideShard(entry: Entry, shardId: string, map: ShardMap | undefined): boolean {
  // Records sharing the aggregate's own placement land with it on any map.
  if (samePlacement(entry)) return true;
  const index = map?.indexOfShardId(shardId) ?? -1;
  if (!map || index < 0) return false;
  for (const record of entry.records) {
    const key = record.partitionKey ?? entry.partitionKey;
    const hash = record.explicitHashKey !== undefined
      ? BigInt(record.explicitHashKey)
      : partitionKeyHash(key);
    const w = bigintToWords(hash);
    if (!map.coversWords(index, w[0], w[1], w[2], w[3])) return false;
  }
  return true;
}

/** Whether every record of `entry` hashes exactly as the aggregate itself does. */
function samePlacement(entry: Entry): boolean {
  let same = true;
  for (const record of entry.records) {
    if (record.explicitHashKey !== undefined) {
      if (record.explicitHashKey !== entry.explicitHashKey) same = false;
    } else if (
      entry.explicitHashKey !== undefined ||
      (record.partitionKey ?? entry.partitionKey) !== entry.partitionKey
    ) same = false;
    if (!same) break;
  }
  if (same || entry.explicitHashKey === undefined || !isAggregate(entry)) return same;
  // Keyed mode without a map gives each inner record its aggregate's explicit
  // hash key inside the aggregate, not in the user's records: read what KCL reads.
  for (const inner of deaggregate(entry.data, entry.partitionKey)) {
    if (!inner.aggregated || inner.explicitHashKey !== entry.explicitHashKey) return false;
  }
  return true;
}
