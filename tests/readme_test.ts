// The README's code snippets are the example files, byte for byte, so they
// cannot rot: the runtime tests run those files.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";

const root = new URL("../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");

describe("README", () => {
  const snippets = [...readme.matchAll(/<!-- snippet: (\S+) -->\s*```\w*\n([\s\S]*?)```/g)];

  it("marks its snippets", () => assert.ok(snippets.length >= 3));

  for (const [, file, code] of snippets) {
    it(`shows ${file} exactly`, () => {
      assert.equal(code, readFileSync(new URL(file, root), "utf8"));
    });
  }

  it("runs the format snippet", () => {
    const out = execFileSync(process.execPath, [
      "run",
      "-A",
      new URL("examples/aggregate.ts", root).pathname,
    ], {
      encoding: "utf8",
    });
    assert.equal(out, "alpha beta gamma\n");
  });

  it("runs the errors snippet: SDK-style name and $metadata", () => {
    const out = execFileSync(process.execPath, [
      "run",
      "-A",
      new URL("examples/errors.ts", root).pathname,
    ], { encoding: "utf8" });
    assert.equal(out, "ResourceNotFoundException: HTTP 400, request example-request-id\n");
  });

  it("runs the Lambda snippet on an event with an aggregate, a plain and a corrupt record", async () => {
    const { handler } = await import("../examples/lambda.ts");
    const { aggregate } = await import("../mod.ts");
    const enc = new TextEncoder();
    const [agg] = aggregate([{ data: enc.encode("one") }, { data: enc.encode("two") }]);
    const corrupt = agg.data.slice();
    corrupt[corrupt.length - 1] ^= 1;
    const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
    const record = (data: Uint8Array, sequenceNumber: string) => ({
      kinesis: { data: b64(data), partitionKey: agg.partitionKey, sequenceNumber },
    });
    const logged: string[] = [];
    const log = console.log;
    console.log = (line: string) => logged.push(line);
    let result;
    try {
      result = await handler({
        Records: [record(agg.data, "10"), record(enc.encode("plain"), "11"), record(corrupt, "12")],
      });
    } finally {
      console.log = log;
    }
    assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "12" }] });
    assert.deepEqual(logged, [
      `10/0 ${agg.partitionKey}: one`,
      `10/1 ${agg.partitionKey}: two`,
      `11/0 ${agg.partitionKey}: plain`,
    ]);
  });

  const runExample = (file: string) =>
    execFileSync(process.execPath, ["run", "-A", new URL(`examples/${file}`, root).pathname], {
      encoding: "utf8",
    });

  it("runs the delivery snippet: deliver(), await using, flush({ signal }), logger", () => {
    assert.equal(
      runExample("delivery.ts"),
      "order 2: shardId-000000000003, sequence 1/1, 1 attempt\n",
    );
  });

  it("runs the streams snippet: producer.writable and toNodeWritable", () => {
    assert.equal(
      runExample("streams.ts"),
      "web stream: 3 records delivered\nnode stream: 4 records delivered\n",
    );
  });

  it("runs the metrics snippet: EMF lines, the OpenTelemetry hook, both billing modes", () => {
    assert.equal(
      runExample("metrics.ts"),
      "EMF: 500 records delivered, 1 PUT payload unit(s)\n" +
        "on-demand: 8192 bytes billed vs 512000 unaggregated\n" +
        "OpenTelemetry: 14 counters registered\n",
    );
  });

  it("runs the compression snippet: gzip per record, undone by deaggregateRecords", () => {
    const out = runExample("compression.ts");
    const [, before, after] = /gzip: (\d+) bytes -> (\d+) bytes/.exec(out)!;
    assert.ok(Number(after) < Number(before) / 2, out);
    assert.match(out, /read back 100 records; first: order 0, order failed\n$/);
  });

  it("lists every value the package root exports in its public API block", async () => {
    const api = /<!-- api -->\s*```ts ignore\n([\s\S]*?)```/.exec(readme)![1];
    const mod = await import("../mod.ts");
    for (const name of Object.keys(mod)) {
      assert.match(api, new RegExp(`\\b${name}\\b`), `${name} is missing from the API block`);
    }
    for (const subpath of ["format", "aws", "node", "testing"]) {
      assert.ok(api.includes(`"@kpl/kinesis-producer/${subpath}"`), subpath);
    }
    assert.ok(api.split("\n").length <= 30, "it fits on one screen");
  });

  it("fills in every measured figure", () =>
    assert.doesNotMatch(readme, /MEMORY_FIGURE|BENCH_TABLE/));
});
