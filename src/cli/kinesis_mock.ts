/**
 * The kinesis-mock launcher lives in `src/testing/` (the `/testing` entry
 * point); this path stays for the CLI's `--local` and older imports.
 * @module
 */
export * from "../testing/kinesis_mock.ts";
