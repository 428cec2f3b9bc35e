/**
 * Test helpers for code that ships with this library: start kinesis-mock (the
 * npm package `kinesis-local`, an optional dependency) on a free loopback
 * port with streams created, create more streams, and read every record back
 * deaggregated. Node, Deno and Bun only (it spawns `node`).
 *
 * @example Ship into kinesis-mock and read it back
 * ```ts ignore
 * import { KinesisProducer } from "@kpl/kinesis-producer";
 * import {
 *   EMULATOR_CREDENTIALS,
 *   emulatorClient,
 *   readRecords,
 *   startKinesisMock,
 * } from "@kpl/kinesis-producer/testing";
 *
 * const mock = await startKinesisMock({ streams: [{ name: "events", shards: 2 }] });
 * try {
 *   const producer = new KinesisProducer({
 *     streamName: "events",
 *     endpoint: mock.endpoint,
 *     region: mock.region,
 *     credentials: EMULATOR_CREDENTIALS,
 *   });
 *   await producer.put("hello");
 *   await producer.close();
 *   const records = await readRecords(emulatorClient(mock), "events");
 *   console.log(records.length); // 1
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
} from "./src/testing/kinesis_mock.ts";
export {
  createStream,
  type CreateStreamOptions,
  EMULATOR_CREDENTIALS,
  emulatorClient,
  type EmulatorEndpoint,
  type ReadRecord,
  readRecords,
} from "./src/testing/streams.ts";
