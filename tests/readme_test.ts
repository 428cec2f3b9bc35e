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

  it("fills in every measured figure", () =>
    assert.doesNotMatch(readme, /MEMORY_FIGURE|BENCH_TABLE/));
});
