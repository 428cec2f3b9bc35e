/**
 * A fake Kinesis stream over loopback HTTP (JSON), for stream-awareness tests:
 * DescribeStreamSummary, ListShards (with AT_LATEST), PutRecord and PutRecords
 * placing records by hash key, or at random for a service-managed (AUTO)
 * stream; resharding by swapping the shard list. Every request's SigV4
 * signature is checked by the independent verifier. Reading back applies
 * KCL's rules: an aggregate with any record outside its shard is dropped.
 */
import { deaggregate } from "../../src/format/deaggregate.ts";
import { partitionKeyHash } from "../../src/format/keys.ts";
import { verifySigV4 } from "./sigv4_verifier.ts";
import { listenLoopback, readBody } from "./http.ts";

/** One shard of the fake. */
export interface FakeShard {
  id: string;
  start: bigint;
  end: bigint;
  /** Set once closed by a reshard. */
  closed?: boolean;
}

/** A stored Kinesis record. */
export interface StoredRecord {
  shardId: string;
  data: Uint8Array;
  partitionKey: string;
  explicitHashKey?: string;
  sequenceNumberForOrdering?: string;
}

/** Settings of {@link startFakeStream}. */
export interface FakeStreamOptions {
  shards: number;
  strategy?: "AUTO" | "USER_PARTITION_KEY";
  maxRecordSizeInKiB?: number;
  denyDescribe?: boolean;
  denyList?: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  random?: () => number;
}

/** A running fake stream. */
export interface FakeStream {
  url: string;
  /** Calls by action. */
  calls: Record<string, number>;
  /** Every record stored, in order. */
  stored: StoredRecord[];
  /** Requests whose signature did not verify (must stay 0). */
  badSignatures: number;
  /** All shards, open and closed. */
  shards: FakeShard[];
  /** Splits shard `id` at its midpoint. */
  split(id: string): void;
  /** Merges two adjacent open shards. */
  merge(a: string, b: string): void;
  /** Changes the stream behind the producer's back (UpdateMaxRecordSize, a switch to AUTO). */
  update(change: Pick<FakeStreamOptions, "maxRecordSizeInKiB" | "strategy">): void;
  /** User records a KCL consumer would read, and aggregates it would drop. */
  readBack(): { records: { partitionKey: string; data: Uint8Array }[]; dropped: number };
  stop(): Promise<void>;
}

const MAX = (1n << 128n) - 1n;

/** Starts the fake with `shards` equal shards. */
export async function startFakeStream(options: FakeStreamOptions): Promise<FakeStream> {
  const o = { ...options };
  const random = o.random ?? Math.random;
  const step = (MAX + 1n) / BigInt(o.shards);
  let nextId = 0;
  const id = () => `shardId-${String(nextId++).padStart(12, "0")}`;
  const shards: FakeShard[] = Array.from({ length: o.shards }, (_, i) => ({
    id: id(),
    start: step * BigInt(i),
    end: i === o.shards - 1 ? MAX : step * BigInt(i + 1) - 1n,
  }));
  const calls: Record<string, number> = {};
  const stored: StoredRecord[] = [];
  let seq = 0;
  let badSignatures = 0;
  const open = () => shards.filter((s) => !s.closed);
  const place = (pk: string, ehk?: string): FakeShard => {
    const o2 = open();
    if (o.strategy === "AUTO") return o2[Math.floor(random() * o2.length)];
    const h = ehk !== undefined ? BigInt(ehk) : partitionKeyHash(pk);
    return o2.find((s) => s.start <= h && h <= s.end)!;
  };
  const error = (status: number, type: string, message: string) => ({
    status,
    body: { __type: type, message },
  });
  const handle = (action: string, p: Record<string, any>) => {
    calls[action] = (calls[action] ?? 0) + 1;
    switch (action) {
      case "DescribeStreamSummary":
        if (o.denyDescribe) {
          return error(
            400,
            "AccessDeniedException",
            "not authorized: kinesis:DescribeStreamSummary",
          );
        }
        return {
          status: 200,
          body: {
            StreamDescriptionSummary: {
              StreamName: "fake",
              StreamARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/fake",
              StreamStatus: "ACTIVE",
              StreamModeDetails: { StreamMode: o.strategy ? "ON_DEMAND" : "PROVISIONED" },
              RetentionPeriodHours: 24,
              StreamCreationTimestamp: 1_700_000_000,
              OpenShardCount: open().length,
              MaxRecordSizeInKiB: o.maxRecordSizeInKiB ?? 1024,
              ...(o.strategy ? { RecordDistributionStrategy: o.strategy } : {}),
            },
          },
        };
      case "ListShards": {
        if (o.denyList) {
          return error(400, "AccessDeniedException", "not authorized: kinesis:ListShards");
        }
        if (p.NextToken !== undefined && (p.StreamName !== undefined || p.ShardFilter)) {
          return error(400, "InvalidArgumentException", "NextToken must be sent alone");
        }
        const latest = p.ShardFilter?.Type === "AT_LATEST" || p.NextToken === "latest";
        const list = latest ? open() : shards;
        // Two pages, to exercise NextToken.
        const half = Math.ceil(list.length / 2);
        const page = p.NextToken === undefined ? list.slice(0, half) : list.slice(half);
        return {
          status: 200,
          body: {
            Shards: page.map((s) => ({
              ShardId: s.id,
              HashKeyRange: { StartingHashKey: `${s.start}`, EndingHashKey: `${s.end}` },
              SequenceNumberRange: {
                StartingSequenceNumber: "1",
                ...(s.closed ? { EndingSequenceNumber: "2" } : {}),
              },
            })),
            ...(p.NextToken === undefined && list.length > half
              ? { NextToken: latest ? "latest" : "all" }
              : {}),
          },
        };
      }
      case "PutRecord":
      case "PutRecords": {
        const entries = action === "PutRecords" ? p.Records : [p];
        const limit = (o.maxRecordSizeInKiB ?? 1024) * 1024;
        const out = [];
        for (const e of entries) {
          const data = Uint8Array.from(atob(e.Data), (c) => c.charCodeAt(0));
          if (data.length + new TextEncoder().encode(e.PartitionKey).length > limit) {
            return error(400, "ValidationException", "record too large");
          }
          if (o.strategy === "AUTO" && e.SequenceNumberForOrdering !== undefined) {
            return error(
              400,
              "InvalidArgumentException",
              "SequenceNumberForOrdering not supported",
            );
          }
          const shard = place(e.PartitionKey, e.ExplicitHashKey);
          stored.push({
            shardId: shard.id,
            data,
            partitionKey: e.PartitionKey,
            explicitHashKey: e.ExplicitHashKey,
            sequenceNumberForOrdering: e.SequenceNumberForOrdering,
          });
          out.push({ ShardId: shard.id, SequenceNumber: String(++seq) });
        }
        return {
          status: 200,
          body: action === "PutRecords" ? { FailedRecordCount: 0, Records: out } : out[0],
        };
      }
    }
    return error(400, "UnknownOperationException", action);
  };
  const server = await listenLoopback(async (req, res) => {
    const body = await readBody(req);
    const verified = verifySigV4(
      { method: req.method ?? "", path: req.url ?? "/", headers: req.headers, body },
      [{ ...o.credentials }],
      { region: o.region, service: "kinesis" },
    );
    if (!verified.ok) badSignatures++;
    const target = String(req.headers["x-amz-target"] ?? "");
    const action = target.slice(target.indexOf(".") + 1);
    const { status, body: out } = handle(action, JSON.parse(new TextDecoder().decode(body)));
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
    res.end(JSON.stringify(out));
  });
  return {
    url: server.origin,
    calls,
    stored,
    get badSignatures() {
      return badSignatures;
    },
    shards,
    split(shardId) {
      const s = shards.find((x) => x.id === shardId && !x.closed)!;
      s.closed = true;
      const mid = s.start + (s.end - s.start) / 2n;
      shards.push({ id: id(), start: s.start, end: mid }, {
        id: id(),
        start: mid + 1n,
        end: s.end,
      });
    },
    merge(a, b) {
      const x = shards.find((s) => s.id === a && !s.closed)!;
      const y = shards.find((s) => s.id === b && !s.closed)!;
      x.closed = y.closed = true;
      shards.push({
        id: id(),
        start: x.start < y.start ? x.start : y.start,
        end: x.end > y.end ? x.end : y.end,
      });
    },
    update(change) {
      Object.assign(o, change);
    },
    readBack() {
      const records: { partitionKey: string; data: Uint8Array }[] = [];
      let dropped = 0;
      for (const r of stored) {
        const shard = shards.find((s) => s.id === r.shardId)!;
        const inner = deaggregate(r.data, r.partitionKey);
        const outside = inner.some((u) => {
          const h = u.explicitHashKey !== undefined
            ? BigInt(u.explicitHashKey)
            : partitionKeyHash(u.partitionKey);
          return h < shard.start || h > shard.end;
        });
        // KCL drops an aggregate with any record outside the shard; a plain record passes.
        if (outside && inner.length > 0 && inner[0].aggregated) {
          dropped++;
          continue;
        }
        for (const u of inner) records.push({ partitionKey: u.partitionKey, data: u.data });
      }
      return { records, dropped };
    },
    stop: server.close,
  };
}
