/**
 * Flag parsing for `deno task ship`, by hand: JSR (and so `@std/cli`) is out of
 * reach, and the flags are few. Option names mirror the seed plugin's
 * (`stream_name` → `--stream-name`). Errors are {@link UsageError}s whose
 * messages never echo a secret.
 * @module
 */
import { DEFAULT_MAX_RECORD_BYTES, DEFAULT_TARGET_BYTES } from "../format/limits.ts";
import { UsageError } from "./errors.ts";

/** The `--help` text: every flag, the environment and the exit codes. */
export const HELP = `Usage: deno task ship [options] [FILE...]
Ship newline-delimited records (one line = one record, exact bytes, no newline)
into a Kinesis data stream as KPL aggregates: one chunk = one PutRecord.
FILE may be repeated; none or "-" reads stdin.

Try it with no AWS account:  deno task ship --local examples/sample.ndjson

Target
  --stream-name NAME         stream to write to (required unless --local)
  --region REGION            AWS region (env AWS_REGION, AWS_DEFAULT_REGION)
  --endpoint URL             Kinesis endpoint (env AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL)
  --local                    start kinesis-mock on loopback, create the stream,
                             ship, then read it back and check every record
Credentials (default: env, AWS_PROFILE / shared files, web identity, container, IMDS)
  --aws-key-id ID            access key id     } prefer env vars or a profile:
  --aws-sec-key KEY          secret access key } flags show up in ps and history
  --role-arn ARN             assume this role with STS
  --external-id ID           external id for --role-arn
  --http-proxy URL           proxy for Kinesis and STS, e.g. http://squid:3128/
Shipping
  --fixed-partition-key KEY  one key for every chunk (default: random per chunk)
  --num-threads N            PutRecord calls in flight (default 8)
  --chunk-limit SIZE         target chunk size: 300k, 1m (default 256k, max 1m)
  --linger DURATION          longest wait for a chunk to fill: 500ms, 2s (default 500ms)
  --max-retries N            retries per chunk (default 9)
  --protocol json|cbor       wire protocol (default json)
  --keep-empty               ship empty lines too (default: skip them)
Failures
  --dead-letter FILE         where failed records go, appended as NDJSON lines
                             {"data"|"data_b64", "reason", "error"}
                             (default kinesis-dead-letters.ndjson, created on first failure)
  --replay FILE              ship the records of a dead-letter file again (repeatable)
Intake
  --listen HOST:PORT         HTTP intake: POST NDJSON or a JSON array; answers after
                             delivery (200, or 503 with the failed count)
Output
  --json                     print the summary as JSON on stdout
  --debug                    log every AWS call on stderr (never keys or data)
  -h, --help                 show this help

Progress goes to stderr only when it is a terminal; the summary comes at the end.
SIGINT/SIGTERM: stop reading, deliver what was read, write dead letters, summarize.
Exit codes: 0 all delivered; 1 some records failed (or --local found a mismatch);
2 invalid configuration; 3 unreadable input; 4 emulator or listener could not start;
130/143 stopped by SIGINT/SIGTERM with everything read delivered.
`;

/** Everything the command line says, validated. */
export interface ShipConfig {
  /** Input files; `-` is stdin. Empty: stdin (unless replaying or listening). */
  inputs: string[];
  /** Dead-letter files to replay. */
  replay: string[];
  /** Stream name [`stream_name`]. */
  streamName?: string;
  /** Region [`region`]. */
  region?: string;
  /** Access key id [`aws_key_id`]. */
  awsKeyId?: string;
  /** Secret key [`aws_sec_key`]. Never printed. */
  awsSecKey?: string;
  /** Role to assume [`role_arn`]. */
  roleArn?: string;
  /** External id [`external_id`]. */
  externalId?: string;
  /** Proxy URL [`http_proxy`]. */
  httpProxy?: string;
  /** Fixed partition key [`fixed_partition_key`]. */
  fixedPartitionKey?: string;
  /** Concurrency [`num_threads`]. @default {8} */
  numThreads: number;
  /** Target chunk bytes [`buffer_chunk_limit`]. @default {262144} */
  chunkLimit: number;
  /** Log AWS calls [`debug`]. @default {false} */
  debug: boolean;
  /** Kinesis endpoint URL. */
  endpoint?: string;
  /** Wire protocol. @default {"json"} */
  protocol: "json" | "cbor";
  /** Linger in ms. @default {500} */
  lingerMs: number;
  /** Retries per chunk. @default {9} */
  maxRetries: number;
  /** Dead-letter file. @default {"kinesis-dead-letters.ndjson"} */
  deadLetter: string;
  /** Summary as JSON on stdout. @default {false} */
  json: boolean;
  /** Show help. @default {false} */
  help: boolean;
  /** Run against an embedded kinesis-mock. @default {false} */
  local: boolean;
  /** Ship empty lines. @default {false} */
  keepEmpty: boolean;
  /** HTTP intake address. */
  listen?: { host: string; port: number };
  /** Warnings to print before starting (never containing a secret). */
  warnings: string[];
}

/** Default dead-letter file, created only when a record fails. */
export const DEFAULT_DEAD_LETTER = "kinesis-dead-letters.ndjson";

const VALUE_FLAGS = new Set([
  "stream-name",
  "region",
  "aws-key-id",
  "aws-sec-key",
  "role-arn",
  "external-id",
  "http-proxy",
  "fixed-partition-key",
  "num-threads",
  "chunk-limit",
  "endpoint",
  "protocol",
  "linger",
  "max-retries",
  "dead-letter",
  "replay",
  "listen",
]);
const BOOLEAN_FLAGS = new Set(["debug", "json", "help", "local", "keep-empty"]);
const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 };

/**
 * Parses a size the way Fluentd's `buffer_chunk_limit` does: `300k`, `1m`,
 * `262144`; `k`/`m`/`g` are powers of 1024 and a trailing `b`/`ib` is allowed.
 * Returns `undefined` for anything else.
 *
 * @example
 * ```ts
 * import { parseSize } from "./args.ts";
 * console.log(parseSize("300k")); // 307200
 * ```
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

/**
 * Parses a duration in ms: `500`, `500ms`, `2s`, `1.5s`. Returns `undefined`
 * for anything else.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./args.ts";
 * console.log(parseDuration("2s")); // 2000
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text.trim());
  if (!m) return undefined;
  const scale = m[2] === "s" ? 1000 : m[2] === "m" ? 60_000 : 1;
  return Number(m[1]) * scale;
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(
      `Cannot set --${flag} to ${
        JSON.stringify(text)
      }: it must be an integer from ${min} to ${max}`,
    );
  }
  return n;
}

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new UsageError(
      `Cannot listen on ${JSON.stringify(text)}: use HOST:PORT, for example 127.0.0.1:8080`,
    );
  }
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/**
 * Parses `argv` (without the program name) into a {@link ShipConfig}.
 * Throws a {@link UsageError} for unknown flags, missing or bad values, and
 * contradictory combinations. Cross-checks that need the environment (region,
 * credentials) happen later, before any input is read.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * const config = parseArgs(["--local", "--chunk-limit", "300k", "app.log"]);
 * console.log(config.chunkLimit, config.inputs); // 307200 [ "app.log" ]
 * ```
 */
export function parseArgs(argv: readonly string[]): ShipConfig {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const inputs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      inputs.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      flags.add("help");
      continue;
    }
    if (!arg.startsWith("--")) {
      if (arg.startsWith("-") && arg !== "-") {
        throw new UsageError(`Unknown option ${arg} (see --help)`);
      }
      inputs.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (BOOLEAN_FLAGS.has(name)) {
      if (eq >= 0) throw new UsageError(`Option --${name} takes no value`);
      flags.add(name);
    } else if (VALUE_FLAGS.has(name)) {
      let value: string;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`Option --${name} needs a value (see --help)`);
      if (value === "") throw new UsageError(`Option --${name} needs a non-empty value`);
      if (!values.has(name)) values.set(name, []);
      values.get(name)!.push(value);
    } else {
      throw new UsageError(`Unknown option --${name} (see --help)`);
    }
  }
  const one = (name: string): string | undefined => {
    const list = values.get(name);
    if (list && list.length > 1 && name !== "replay") {
      throw new UsageError(`Option --${name} was given ${list.length} times; give it once`);
    }
    return list?.[0];
  };

  const warnings: string[] = [];
  const chunkText = one("chunk-limit");
  let chunkLimit = DEFAULT_TARGET_BYTES;
  if (chunkText !== undefined) {
    const size = parseSize(chunkText);
    if (size === undefined || size < 1 || size > DEFAULT_MAX_RECORD_BYTES) {
      throw new UsageError(
        `Cannot set --chunk-limit to ${
          JSON.stringify(chunkText)
        }: use a size from 1 to 1m (the Kinesis record limit), such as 300k`,
      );
    }
    chunkLimit = size;
  }
  const lingerText = one("linger");
  const lingerMs = lingerText === undefined ? 500 : parseDuration(lingerText);
  if (lingerMs === undefined || lingerMs > 3_600_000) {
    throw new UsageError(
      `Cannot set --linger to ${JSON.stringify(lingerText)}: use a duration such as 500ms or 2s`,
    );
  }
  const protocol = one("protocol") ?? "json";
  if (protocol !== "json" && protocol !== "cbor") {
    throw new UsageError(
      `Cannot set --protocol to ${JSON.stringify(protocol)}: use json or cbor`,
    );
  }
  const awsKeyId = one("aws-key-id");
  const awsSecKey = one("aws-sec-key");
  if ((awsKeyId === undefined) !== (awsSecKey === undefined)) {
    throw new UsageError(
      "Options --aws-key-id and --aws-sec-key go together: give both or neither",
    );
  }
  if (awsSecKey !== undefined) {
    warnings.push(
      "warning: --aws-sec-key is visible in ps and shell history; prefer AWS_ACCESS_KEY_ID / " +
        "AWS_SECRET_ACCESS_KEY or a profile (AWS_PROFILE)",
    );
  }
  const externalId = one("external-id");
  const roleArn = one("role-arn");
  if (externalId !== undefined && roleArn === undefined) {
    throw new UsageError("Option --external-id needs --role-arn");
  }
  const listenText = one("listen");
  const replay = values.get("replay") ?? [];
  const local = flags.has("local");
  const endpoint = one("endpoint");
  if (local && endpoint !== undefined) {
    throw new UsageError(
      "Options --local and --endpoint exclude each other: --local picks its own",
    );
  }
  if (listenText !== undefined && (inputs.length > 0 || replay.length > 0)) {
    throw new UsageError("Option --listen reads from HTTP: give no FILE and no --replay");
  }
  if (replay.length > 0 && inputs.length > 0) {
    throw new UsageError("Option --replay reads dead-letter files: give no other FILE");
  }
  const deadLetter = one("dead-letter") ?? DEFAULT_DEAD_LETTER;
  return {
    inputs,
    replay,
    streamName: one("stream-name"),
    region: one("region"),
    awsKeyId,
    awsSecKey,
    roleArn,
    externalId,
    httpProxy: one("http-proxy"),
    fixedPartitionKey: one("fixed-partition-key"),
    numThreads: one("num-threads") === undefined
      ? 8
      : integer("num-threads", one("num-threads")!, 1, 1024),
    chunkLimit,
    debug: flags.has("debug"),
    endpoint,
    protocol,
    lingerMs,
    maxRetries: one("max-retries") === undefined
      ? 9
      : integer("max-retries", one("max-retries")!, 0, 100),
    deadLetter,
    json: flags.has("json"),
    help: flags.has("help"),
    local,
    keepEmpty: flags.has("keep-empty"),
    listen: listenText === undefined ? undefined : parseListen(listenText),
    warnings,
  };
}
