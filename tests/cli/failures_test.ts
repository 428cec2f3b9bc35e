/** Failure reasons, fail-fast and the progress line's current problem, as units. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DebugEvent } from "../../src/aws/debug.ts";
import { KinesisError } from "../../src/aws/errors.ts";
import { CurrentProblem } from "../../src/cli/current_problem.ts";
import { FailFast } from "../../src/cli/fail_fast.ts";
import { describeFailure, FailureReasons } from "../../src/cli/failure_reasons.ts";
import { Progress } from "../../src/cli/progress.ts";
import { emptyStats } from "../../src/producer/stats.ts";
import { buildSummary, formatSummary } from "../../src/cli/summary.ts";

const attempt = (over: Partial<DebugEvent> = {}): DebugEvent => ({
  service: "kinesis",
  action: "PutRecord",
  status: 0,
  durationMs: 1,
  retry: 0,
  ...over,
});
const refused = (retry: number) =>
  attempt({
    retry,
    error: "NetworkError",
    causeCode: "ECONNREFUSED",
    cause: "request failed: connection refused (ECONNREFUSED) to 127.0.0.1:4567",
  });
const denied = () =>
  attempt({ status: 400, error: "AccessDeniedException", cause: "User x is not authorized" });

describe("FailFast", () => {
  it("stops after the first attempts all fail the same non-transient way", () => {
    const f = new FailFast();
    assert.equal(f.observe(denied()), undefined);
    assert.equal(f.observe(denied()), undefined);
    const v = f.observe(denied());
    assert.ok(v);
    assert.match(v.reason, /access denied: User x is not authorized/);
    assert.match(v.hint, /kinesis:PutRecord/);
    assert.equal(f.observe(denied()), undefined, "decides once");
  });
  it("waits for a refused connection to be refused on a chunk's third attempt", () => {
    const f = new FailFast();
    for (let i = 0; i < 8; i++) assert.equal(f.observe(refused(0)), undefined);
    assert.equal(f.observe(refused(1)), undefined);
    const v = f.observe(refused(2));
    assert.equal(v?.reason, "connection refused (ECONNREFUSED) to 127.0.0.1:4567");
    assert.match(v!.hint, /--endpoint/);
  });
  it("never fires after a success, for mixed failures, for transient ones or for clock skew", () => {
    const ok = new FailFast();
    ok.observe(attempt({ status: 200 }));
    for (let i = 0; i < 5; i++) assert.equal(ok.observe(denied()), undefined);
    const mixed = new FailFast();
    mixed.observe(attempt({ status: 400, error: "ProvisionedThroughputExceededException" }));
    for (let i = 0; i < 5; i++) assert.equal(mixed.observe(denied()), undefined);
    const throttled = new FailFast();
    for (let i = 0; i < 20; i++) {
      const e = attempt({ status: 400, error: "ProvisionedThroughputExceededException", retry: i });
      assert.equal(throttled.observe(e), undefined);
    }
    const skew = new FailFast();
    for (let i = 0; i < 5; i++) {
      const e = attempt({
        status: 400,
        error: "InvalidSignatureException",
        cause: "Signature expired: 20260101T000000Z is now earlier than 20260101T001500Z",
      });
      assert.equal(skew.observe(e), undefined);
    }
  });
});

describe("FailureReasons", () => {
  it("groups by code and address, counts records, keeps the most attempts", () => {
    const net = new KinesisError({
      code: "NetworkError",
      message: "request failed: connection refused (ECONNREFUSED) to 127.0.0.1:4567",
      action: "PutRecord",
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    });
    const throttle = (shard: string) =>
      new KinesisError({
        code: "ProvisionedThroughputExceededException",
        message: `Rate exceeded for shard ${shard}`,
        status: 400,
        action: "PutRecord",
      });
    assert.deepEqual(
      describeFailure(net).text,
      "connection refused (ECONNREFUSED) to 127.0.0.1:4567",
    );
    const tally = new FailureReasons();
    const failure = (error: Error, records: number, attempts: number) => ({
      records: Array.from({ length: records }, () => ({ data: new Uint8Array(1) })),
      error,
      attempts,
      reason: "attempts-exhausted" as const,
      partitionKey: "k",
    });
    tally.addFailure(failure(net, 2000, 10));
    tally.addFailure(failure(net, 310, 7));
    tally.addFailure(failure(throttle("shardId-1"), 5, 10));
    tally.addFailure(failure(throttle("shardId-2"), 6, 10));
    tally.add("too-large:x", "Cannot ship line: too long", 1);
    assert.deepEqual(tally.top(2), [
      {
        reason: "connection refused (ECONNREFUSED) to 127.0.0.1:4567",
        records: 2310,
        attempts: 10,
      },
      { reason: "throttled (ProvisionedThroughputExceededException)", records: 11, attempts: 10 },
    ]);
    assert.equal(tally.size, 3);
  });
  it("appear in the summary with their counts", () => {
    const stats = {
      records: 2310,
      recordsDelivered: 0,
      recordsLost: 0,
      chunks: 0,
      chunksFailed: 3,
      bytes: 0,
      calls: 30,
      retries: 27,
      throttles: 0,
      putUnits: 0,
      putUnitsUnaggregated: 2310,
    } as unknown as Parameters<typeof buildSummary>[0];
    const counts = {
      recordsRead: 2310,
      emptySkipped: 0,
      bytesRead: 1,
      deadLetters: 2310,
      lost: 0,
      fragmentsSkipped: 0,
      keyFieldMissing: 0,
    };
    const summary = buildSummary(stats, counts, 1000, {
      exitCode: 1,
      deadLetterFile: "kinesis-dead-letters.ndjson",
      failureReasons: [{
        reason: "connection refused (ECONNREFUSED) to 127.0.0.1:4567",
        records: 2310,
        attempts: 10,
      }],
    });
    const text = formatSummary(summary);
    assert.match(
      text,
      /2,310 records failed: connection refused \(ECONNREFUSED\) to 127\.0\.0\.1:4567 \(after 10 attempts\)/,
    );
    assert.match(text, /dead letters: kinesis-dead-letters\.ndjson/);
  });
});

describe("CurrentProblem and the progress line", () => {
  it("names the most frequent recent failure while it lasts", () => {
    let now = 0;
    const p = new CurrentProblem({ windowMs: 5000, now: () => now });
    assert.equal(p.text, undefined);
    for (let i = 0; i < 12; i++) {
      p.observe(attempt({ status: 400, error: "ProvisionedThroughputExceededException" }));
    }
    p.observe(refused(0));
    p.observe(attempt({ status: 200 }));
    assert.equal(p.text, "retrying: throttled ×12");
    now = 6000;
    assert.equal(p.text, undefined, "gone once the window has passed");
    p.observe(denied());
    assert.equal(p.text, "failing: AccessDeniedException ×1");
  });
  it("is drawn on the progress line", async () => {
    let out = "";
    const stats = { ...emptyStats(), recordsDelivered: 5, bytes: 10, inFlight: 1, retries: 3 };
    const progress = new Progress({
      write: (t) => (out += t),
      stats: () => stats,
      problem: () => "retrying: throttled ×12",
      intervalMs: 5,
    });
    progress.start();
    await new Promise((r) => setTimeout(r, 30));
    progress.stop();
    assert.match(out, /retries 3 {2}retrying: throttled ×12/);
  });
});
