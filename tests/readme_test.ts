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

  it("fills in every measured figure", () =>
    assert.doesNotMatch(readme, /MEMORY_FIGURE|BENCH_TABLE/));
});
