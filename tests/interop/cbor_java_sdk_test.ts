/**
 * Our CBOR against the AWS SDK for Java v2 (`software.amazon.awssdk:kinesis`,
 * CBOR by default): the same PutRecord / PutRecords inputs must produce request
 * bodies that decode to exactly the same values (same members, same types: byte
 * strings stay byte strings), and the CBOR responses the SDK parses (definite
 * and indefinite-length maps and arrays, as a Jackson-based service writes
 * them) must read to the same values in our client.
 *
 * Deno only (it needs this folder). The oracle is tests/interop/java_cbor (a Maven project): its dependencies
 * are fetched on first run (`mvn dependency:copy-dependencies`) and it is
 * compiled with `javac`. Skipped when `java`, `javac` or `mvn` is missing.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { decodeCbor } from "../../src/aws/cbor.ts";
import type { KinesisError } from "../../src/aws/errors.ts";
import { KinesisClient } from "../../src/aws/kinesis_client.ts";

const dir = new URL("./java_cbor/", import.meta.url).pathname;
const lib = `${dir}target/lib`;
const classes = `${dir}target/classes`;

function has(cmd: string): boolean {
  return spawnSync(cmd, ["-version"], { stdio: "ignore" }).status === 0;
}

/** Fetches and compiles the oracle; returns why it cannot run, or undefined. */
function prepare(): string | undefined {
  if (!has("java") || !has("javac")) return "no java/javac";
  const jars = existsSync(lib) ? readdirSync(lib).filter((f) => f.endsWith(".jar")) : [];
  if (!jars.some((j) => j.startsWith("kinesis-"))) {
    if (spawnSync("mvn", ["-v"], { stdio: "ignore" }).status !== 0) return "no mvn";
    const r = spawnSync("mvn", [
      "-q",
      "-B",
      "dependency:copy-dependencies",
      `-DoutputDirectory=${lib}`,
    ], { cwd: dir, encoding: "utf8", timeout: 600_000 });
    if (r.status !== 0) return `mvn failed: ${(r.stdout + r.stderr).slice(-500)}`;
  }
  if (!existsSync(`${classes}/oracle/CborOracle.class`)) {
    const r = spawnSync("javac", [
      "-d",
      classes,
      "-cp",
      `${lib}/*`,
      `${dir}src/main/java/oracle/CborOracle.java`,
    ], { encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) return `javac failed: ${r.stderr.slice(-500)}`;
  }
  return undefined;
}

// A tiny CBOR writer for the responses, independent of src/aws/cbor.ts, that can
// also write indefinite-length maps and arrays (Jackson's default).
type Item = string | number | Item[] | { [k: string]: Item };
function head(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n];
  if (n < 256) return [(major << 5) | 24, n];
  return [(major << 5) | 25, n >> 8, n & 0xff];
}
function cbor(v: Item, indefinite: boolean): number[] {
  if (typeof v === "number") return head(0, v);
  if (typeof v === "string") {
    const b = [...new TextEncoder().encode(v)];
    return [...head(3, b.length), ...b];
  }
  if (Array.isArray(v)) {
    const body = v.flatMap((x) => cbor(x, indefinite));
    return indefinite ? [0x9f, ...body, 0xff] : [...head(4, v.length), ...body];
  }
  const entries = Object.entries(v);
  const body = entries.flatMap(([k, x]) => [...cbor(k, indefinite), ...cbor(x, indefinite)]);
  return indefinite ? [0xbf, ...body, 0xff] : [...head(5, entries.length), ...body];
}
const hex = (b: number[] | Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));

function data(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const SEQ = "49590338271490256608559692538361571095921575989136588898";
const SHARD = "shardId-000000000007";

/** The cases, mirrored in CborOracle.java: our call, and the response both parse. */
const CASES: {
  status?: number;
  name: string;
  response: number[];
  ours: (c: KinesisClient) => Promise<string>;
}[] = [
  {
    name: "put-record",
    response: cbor({ ShardId: SHARD, SequenceNumber: SEQ, EncryptionType: "KMS" }, false),
    ours: async (c) => {
      const r = await c.putRecord({
        streamName: "oracle-stream",
        data: data(300, 7),
        partitionKey: "pk-ключ-1",
        explicitHashKey: "170141183460469231731687303715884105728",
        sequenceNumberForOrdering: SEQ,
      });
      return `${r.shardId}|${r.sequenceNumber}|${r.encryptionType ?? null}`;
    },
  },
  {
    name: "put-record-arn",
    response: cbor({ ShardId: SHARD, SequenceNumber: "1" }, true),
    ours: async (c) => {
      const r = await c.putRecord({
        streamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/oracle-stream",
        data: data(0, 0),
        partitionKey: "k",
      });
      return `${r.shardId}|${r.sequenceNumber}|${r.encryptionType ?? null}`;
    },
  },
  {
    name: "put-record-large",
    response: cbor({ SequenceNumber: SEQ, EncryptionType: "NONE", ShardId: SHARD }, true),
    ours: async (c) => {
      const r = await c.putRecord({
        streamName: "oracle-stream",
        data: data(70000, 3),
        partitionKey: "a",
      });
      return `${r.shardId}|${r.sequenceNumber}|${r.encryptionType ?? null}`;
    },
  },
  {
    name: "put-record-error",
    status: 400,
    response: cbor({
      __type: "ProvisionedThroughputExceededException",
      message: "Rate exceeded for shard shardId-000000000007",
    }, true),
    ours: async (c) => {
      try {
        await c.putRecord({ streamName: "oracle-stream", data: data(10, 1), partitionKey: "e" });
        return "no error";
      } catch (e) {
        const k = e as KinesisError;
        return `${k.code}|${k.message.slice(k.message.indexOf("Rate"))}|${k.status}`;
      }
    },
  },
  {
    name: "put-records",
    response: cbor({
      FailedRecordCount: 1,
      Records: [
        { ShardId: SHARD, SequenceNumber: "11" },
        {
          ErrorCode: "ProvisionedThroughputExceededException",
          ErrorMessage: "Rate exceeded for shard shardId-000000000007",
        },
        { SequenceNumber: "12", ShardId: "shardId-000000000001" },
      ],
      EncryptionType: "NONE",
    }, true),
    ours: async (c) => {
      const r = await c.putRecords({
        streamName: "oracle-stream",
        records: [
          { data: data(200, 1), partitionKey: "p1" },
          { data: data(24, 2), partitionKey: "p2", explicitHashKey: "42" },
          { data: data(1, 5), partitionKey: "🔑" },
        ],
      });
      return [
        `${r.failedRecordCount}|${r.encryptionType ?? null}`,
        ...r.records.map((e) =>
          `${e.shardId ?? null},${e.sequenceNumber ?? null},${e.errorCode ?? null},${
            e.errorMessage ?? null
          }`
        ),
      ].join("|");
    },
  },
];

const why = prepare();

describe("CBOR against the AWS SDK for Java v2", { skip: why }, () => {
  const java = new Map<string, { contentType: string; body: Uint8Array; parsed: string }>();
  const run = () => {
    if (java.size) return;
    const r = spawnSync("java", ["-cp", `${classes}:${lib}/*`, "oracle.CborOracle"], {
      input: CASES.map((c) => `${c.name} ${hex(c.response)}`).join("\n") + "\n",
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    for (const line of r.stdout.trim().split("\n")) {
      const [name, contentType, body, parsed] = line.split(" ");
      java.set(name, {
        contentType,
        body: unhex(body),
        parsed: new TextDecoder().decode(Uint8Array.from(atob(parsed), (ch) => ch.charCodeAt(0))),
      });
    }
  };

  for (const c of CASES) {
    it(`${c.name}: same request values, same reading of the response`, async () => {
      run();
      const theirs = java.get(c.name)!;
      let body: Uint8Array | undefined;
      let contentType = "";
      const client = new KinesisClient({
        region: "us-east-1",
        endpoint: "http://127.0.0.1:9",
        credentials: { accessKeyId: "AKIDORACLE", secretAccessKey: "oracle-secret" },
        protocol: "cbor",
        fetch: (_input, init) => {
          body = new Uint8Array(init!.body as ArrayBuffer | Uint8Array<ArrayBuffer>);
          contentType = new Headers(init!.headers).get("content-type") ?? "";
          return Promise.resolve(
            new Response(new Uint8Array(c.response), {
              status: c.status ?? 200,
              headers: { "content-type": "application/x-amz-cbor-1.1" },
            }),
          );
        },
      });
      const parsed = await c.ours(client);
      assert.equal(contentType, theirs.contentType);
      assert.deepEqual(decodeCbor(body!), decodeCbor(theirs.body));
      assert.equal(parsed, theirs.parsed);
    });
  }
});
