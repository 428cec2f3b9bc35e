/**
 * Test helpers for your own tests: an embedded Kinesis (kinesis-mock, the
 * engine LocalStack uses) on free loopback ports, with streams created and
 * ACTIVE before it resolves. Deno, Node and Bun (it starts a Node process);
 * never in Workers. The optional dependency `kinesis-local` must be installed.
 *
 * @example A test against an embedded Kinesis
 * ```ts ignore
 * import { KinesisProducer } from "@kpl/kinesis-producer";
 * import { startKinesisMock } from "@kpl/kinesis-producer/testing";
 *
 * const mock = await startKinesisMock({ streams: [{ name: "events", shards: 2 }] });
 * try {
 *   const producer = new KinesisProducer({
 *     streamName: "events",
 *     endpoint: mock.endpoint,
 *     region: mock.region,
 *     credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "any" },
 *   });
 *   await producer.put("hello");
 *   await producer.close();
 * } finally {
 *   await mock.stop();
 * }
 * ```
 * @module
 */

export {
  type KinesisMock,
  type KinesisMockOptions,
  type KinesisMockStream,
  startKinesisMock,
} from "./src/cli/kinesis_mock.ts";
