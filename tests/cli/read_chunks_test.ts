import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LineSplitter } from "../../src/cli/lines.ts";
import { ReadChunks } from "../../src/cli/read_chunks.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Feeds `texts` as fresh chunks, the way the CLI's readers do; returns the lines put. */
function feed(chunks: ReadChunks, splitter: LineSplitter, texts: string[]): Uint8Array[] {
  const lines: Uint8Array[] = [];
  for (const text of texts) {
    const chunk = enc.encode(text);
    chunks.read(chunk, splitter);
    for (const e of splitter.feed(chunk)) {
      if (e.type !== "line") continue;
      chunks.taken(e.bytes);
      lines.push(e.bytes);
    }
    if (splitter.pendingBytes === 0) chunks.fed(splitter);
  }
  return lines;
}

describe("ReadChunks", () => {
  it("frees a chunk only after its last line settles, and never touches a line before", () => {
    const chunks = new ReadChunks();
    const splitter = new LineSplitter({ maxLineBytes: 100 });
    const lines = feed(chunks, splitter, ["a1\na2\n", "b1\n"]);
    assert.deepEqual(lines.map((l) => dec.decode(l)), ["a1", "a2", "b1"]);
    assert.equal(chunks.alive, 2);
    chunks.settled(lines[0]);
    assert.equal(dec.decode(lines[1]), "a2", "a sibling line is intact while unsettled");
    assert.equal(chunks.released, 0);
    chunks.settled(lines[1]);
    assert.equal(chunks.released, 1);
    assert.equal(lines[1].byteLength, 0, "the first chunk is detached (freed)");
    assert.equal(dec.decode(lines[2]), "b1");
    chunks.settled(lines[2]);
    assert.equal(chunks.alive, 0);
  });

  it("keeps a chunk while the splitter holds a view of its unfinished line", () => {
    const chunks = new ReadChunks();
    const splitter = new LineSplitter({ maxLineBytes: 100 });
    const first = feed(chunks, splitter, ["x1\npart"]);
    chunks.settled(first[0]);
    assert.equal(chunks.released, 0, "'part' is still a view into the first chunk");
    const second = feed(chunks, splitter, ["ial\n"]);
    assert.deepEqual(second.map((l) => dec.decode(l)), ["partial"]);
    // The joined line is a copy: both chunks are free to go, and the line is intact.
    assert.equal(chunks.released, 2);
    assert.equal(dec.decode(second[0]), "partial");
    chunks.settled(second[0]);
    assert.equal(chunks.alive, 0);
  });

  it("ignores arrays it never registered and leaves forgotten chunks alone", () => {
    const chunks = new ReadChunks();
    const other = enc.encode("not a chunk");
    chunks.taken(other);
    chunks.settled(other);
    assert.equal(other.byteLength, 11);
    const splitter = new LineSplitter({ maxLineBytes: 100 });
    const lines = feed(chunks, splitter, ["k\nl\n"]);
    chunks.forget(lines[0]);
    chunks.settled(lines[1]);
    assert.equal(chunks.released, 0);
    assert.equal(dec.decode(lines[0]), "k");
    assert.equal(chunks.alive, 0);
  });

  it("tracks each splitter apart: one file's unfinished line does not pin another's chunks", () => {
    const chunks = new ReadChunks();
    const a = new LineSplitter({ maxLineBytes: 100 });
    const b = new LineSplitter({ maxLineBytes: 100 });
    feed(chunks, a, ["pending without newline"]);
    const lines = feed(chunks, b, ["done\n"]);
    chunks.settled(lines[0]);
    assert.equal(chunks.released, 1);
  });
});
