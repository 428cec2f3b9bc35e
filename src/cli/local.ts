/**
 * `--local`: kinesis-mock on a free loopback port, with the stream created,
 * and the fixed dummy credentials it accepts (it checks only the shape of the
 * Authorization header).
 * @module
 */
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

/**
 * Starts the emulator with `streamName` ACTIVE. The CLI must keep it up on
 * SIGINT/SIGTERM while it flushes and reads back, so `startKinesisMock` does
 * not handle signals here and the CLI stops the emulator itself. Its exit
 * hook and stdin watchdog stay, as the backstop.
 */
export async function startLocal(streamName: string, region: string): Promise<KinesisMock> {
  try {
    return await startKinesisMock({
      streams: [{ name: streamName, shards: LOCAL_SHARDS }],
      region,
      handleSignals: false,
    });
  } catch (error) {
    throw new EnvironmentError(
      `Cannot start kinesis-mock for --local: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
