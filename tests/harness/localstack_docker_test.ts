// Docker mode's failure path: a LocalStack container that never becomes healthy
// fails within the timeout, with a message naming the step and the container's
// output, and no container of this harness is left. Runs where CI's docker path
// runs (an engine answers and KPL_LOCALSTACK_IMAGE names a local image).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { startLocalStack } from "./localstack.ts";
import { engineUnavailable, OWNER_LABEL, ownerId } from "./localstack_docker.ts";

const image = process.env.KPL_LOCALSTACK_IMAGE;
const skip = !image
  ? "KPL_LOCALSTACK_IMAGE is not set (CI's docker path sets it)"
  : (await engineUnavailable()) ?? false;

describe("docker mode faults", { skip }, () => {
  it("gives up on a container that is never healthy, and removes it", async () => {
    const t0 = Date.now();
    await assert.rejects(
      // Kinesis is not among the services, so health never reports it available.
      startLocalStack({
        modes: ["docker"],
        image,
        env: { SERVICES: "sts" },
        readyTimeoutMs: 8_000,
      }),
      (err: Error) => {
        assert.match(
          err.message,
          /^LocalStack container \(.+\) did not start: not healthy within 8000 ms/,
        );
        assert.match(err.message, /kinesis=disabled|kinesis=undefined/);
        return true;
      },
    );
    // Container creation (a vfs copy of the image) comes before the timeout starts.
    assert.ok(Date.now() - t0 < 120_000, `took ${Date.now() - t0} ms`);
    const { getContainerRuntimeClient } = await import("testcontainers");
    const client = await getContainerRuntimeClient();
    const left = await client.container.dockerode.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${OWNER_LABEL}=${ownerId()}`] }),
    });
    assert.deepEqual(left.map((c) => c.Id), []);
  });
});
