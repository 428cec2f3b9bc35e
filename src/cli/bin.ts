#!/usr/bin/env node
/**
 * The npm package's `kinesis-ship` command (Node ≥ 20, which has no
 * `import.meta.main`): the same CLI as `deno task ship`.
 * @module
 */
import { runCli } from "./main.ts";

await runCli();
