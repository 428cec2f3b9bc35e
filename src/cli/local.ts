/**
 * `--local`: kinesis-mock on a free loopback port, with the stream created,
 * and the fixed dummy credentials it accepts (it checks only the shape of the
 * Authorization header).
 * @module
 */
import process from "node:process";
import { type KinesisMock, startKinesisMock } from "./kinesis_mock.ts";
import { EnvironmentError } from "./errors.ts";

/** Stream name `--local` uses when `--stream-name` is not given. */
export const LOCAL_STREAM = "ship-local";
/** Region `--local` uses when `--region` is not given. */
export const LOCAL_REGION = "us-east-1";
/** Shards of the `--local` stream: more than one, so read-back covers several. */
export const LOCAL_SHARDS = 2;
/** Dummy credentials for the emulator; 12 digits select LocalStack's default account. */
export const LOCAL_CREDENTIALS = {
  accessKeyId: "000000000000",
  secretAccessKey: "kinesis-mock-ignores-the-signature",
} as const;

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Starts the emulator with `streamName` ACTIVE. `startKinesisMock` kills the
 * emulator (and re-raises) on SIGINT/SIGTERM; the CLI must instead keep it up
 * while it flushes and reads back, so those two listeners are taken off here
 * and the CLI stops the emulator itself. Its exit hook stays, as the backstop.
 */
export async function startLocal(streamName: string, region: string): Promise<KinesisMock> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  try {
    return await startKinesisMock({
      streams: [{ name: streamName, shards: LOCAL_SHARDS }],
      region,
    });
  } catch (error) {
    throw new EnvironmentError(
      `Cannot start kinesis-mock for --local: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    for (const signal of SIGNALS) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)!.has(listener)) process.off(signal, listener as () => void);
      }
    }
  }
}
