import assert from "node:assert/strict";
import { it } from "node:test";
import { serverTimeFromMessage } from "../../src/aws/clock_skew.ts";

const AT = Date.UTC(2026, 0, 1, 0, 25, 0);

it("reads the quoted server time in every form Kinesis and STS use", () => {
  const forms = [
    // Kinesis, 15-minute window, both directions.
    "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z (20260101T002500Z - 15 min.)",
    "Signature not yet current: 20260101T010000Z is still later than 20260101T004000Z (20260101T002500Z + 15 min.)",
    // Other window sizes.
    "Signature expired: 20260101T000000Z is now earlier than 20260101T002000Z (20260101T002500Z - 5 min.)",
    "Signature not yet current: x is still later than y (20260101T002500Z + 5 min.)",
    // Extended ISO 8601, fractions, offsets, "minutes".
    "Signature expired: a is now earlier than b (2026-01-01T00:25:00Z - 15 min.)",
    "Signature expired: a is now earlier than b (2026-01-01T00:25:00.000Z - 15 min.)",
    "Signature expired: a is now earlier than b (2026-01-01T01:25:00+01:00 - 15 min.)",
    "Signature expired: a is now earlier than b (2026-01-01T00:25:00Z - 15 minutes)",
    "<Message>Signature expired: 20251231T235000Z is now earlier than 20260101T001000Z (20260101T002500Z - 15 min.)</Message>",
  ];
  for (const message of forms) assert.equal(serverTimeFromMessage(message), AT, message);
});

it("no quoted time, or an impossible one: undefined", () => {
  for (
    const message of [
      "Signature expired: a is now earlier than b (c - 15 min.)",
      "The security token included in the request is expired",
      "(20261301T002500Z - 15 min.)",
      "(20260101T252500Z - 15 min.)",
      "20260101T002500Z",
    ]
  ) assert.equal(serverTimeFromMessage(message), undefined, message);
});
