/**
 * Flag parsing for `deno task ship`, on `node:util`'s `parseArgs` (present in
 * Deno, Bun and Node). Every flag is one row of {@link FLAGS}: its spelling,
 * the seed plugin's option name (`stream_name`, `buffer_chunk_limit`, …) as an
 * alias, its `--help` line, the {@link ShipConfig} field it sets and how its
 * value is read. Adding a flag means adding a row (and its field).
 *
 * Errors are {@link UsageError}s whose messages never echo a secret.
 * @module
 */
import { parseArgs as parseArgv } from "node:util";
import { DEFAULT_MAX_RECORD_BYTES, DEFAULT_TARGET_BYTES } from "../format/limits.ts";
import { type Aggregation, AGGREGATION_MODES, resolveAggregation } from "../producer/options.ts";
import { type ConfigEntry, readConfigFile } from "./config_file.ts";
import { UsageError } from "./errors.ts";
import { parseFieldPath } from "./key_fields.ts";

/** Everything the command line says, validated. */
export interface ShipConfig {
  /** Input files; `-` is stdin. Empty: stdin (unless replaying or listening). */
  inputs: string[];
  /** Dead-letter files to replay. */
  replay: string[];
  /** Replay lines marked as fragments (cut by a signal) too. @default {false} */
  replayFragments: boolean;
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
  /** Dotted path of the JSON field each line's partition key comes from (keyed mode). */
  partitionKeyField?: string;
  /** Dotted path of the JSON field each line's explicit hash key comes from (keyed mode). */
  explicitHashKeyField?: string;
  /** Concurrency [`num_threads`]. @default {8} */
  numThreads: number;
  /** Target chunk bytes [`buffer_chunk_limit`]. @default {250000} */
  chunkLimit: number;
  /** Log AWS calls [`debug`]. @default {false} */
  debug: boolean;
  /** Kinesis endpoint URL. */
  endpoint?: string;
  /** Wire protocol. @default {"json"} */
  protocol: "json" | "cbor";
  /** KPL aggregation (auto: unless the stream places records itself), or each line its own Kinesis record. @default {"on"} */
  aggregation: Aggregation;
  /** Send several ready chunks in one PutRecords. @default {true} */
  collect: boolean;
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
  /** Per-attempt HTTP timeout in ms; unset: 10 s + 1 s per 64 KiB of body. */
  requestTimeoutMs?: number;
  /** A chunk not delivered this many ms after it was cut fails. @default {120000} */
  deadlineMs: number;
  /**
   * Most bytes held in memory; reading waits while full. Smaller than the
   * library's 16 MiB: each buffered byte exists about five more times on its
   * way out (aggregate, base64, body, `fetch`'s copy), and 4 MiB still keeps
   * 8 calls of 250 KB busy. @default {4194304}
   */
  bufferBytes: number;
  /** Most user records per chunk. @default {Infinity} */
  maxRecords: number;
  /** HTTP intake address. */
  listen?: { host: string; port: number };
  /** File holding the intake's bearer token (else env `SHIP_LISTEN_TOKEN`). */
  listenTokenFile?: string;
  /** Grace for intake requests still sending at stop, in ms. @default {5000} */
  listenGraceMs: number;
  /** Most records in one intake request. @default {100000} */
  listenMaxRecords: number;
  /** Most bytes of one intake request after gzip decoding. @default {64 MiB} */
  listenMaxBytes: number;
  /** Intake requests whose bodies are held in memory at once; more wait unread. @default {4} */
  listenMaxPending: number;
  /** Files or glob patterns to follow as they grow and rotate. */
  follow: string[];
  /** Checkpoint file or directory for file input. */
  checkpoint?: string;
  /** Least time between checkpoint writes, in ms. @default {1000} */
  checkpointIntervalMs: number;
  /** Set aside an unusable checkpoint or spool and forget vanished files. @default {false} */
  startOver: boolean;
  /** Follow mode's poll period in ms. @default {250} */
  pollMs: number;
  /** Idle ms before a last line without its newline is shipped (follow). @default {2000} */
  partialLineWaitMs: number;
  /** Idle ms before a rotated-away file is closed (follow). @default {5000} */
  rotateWaitMs: number;
  /** Spool directory for stdin and `--listen`. */
  spool?: string;
  /** Spool size cap in bytes; input waits beyond it. @default {1 GiB} */
  spoolMaxBytes: number;
  /** fdatasync policy: after every batch (0), at most every N ms, or never (-1). @default {1000} */
  spoolFsyncMs: number;
  /** When `--listen` answers 200: after delivery, or once spooled. @default {"delivery"} */
  listenAck: "delivery" | "spool";
  /** Seed's `detach_process`: accepted, has no effect (one process). */
  detachProcess?: number;
  /** `--config` file the options were read from (flags win over it). */
  configFile?: string;
  /** Warnings to print before starting (never containing a secret). */
  warnings: string[];
}

/** Default dead-letter file, created only when a record fails. */
export const DEFAULT_DEAD_LETTER = "kinesis-dead-letters.ndjson";

/** `--help` sections, in the order they are printed. */
const GROUPS = [
  "Target",
  "Credentials",
  "Shipping",
  "Failures",
  "Intake",
  "Durability",
  "Output",
] as const;

/** One flag: one row of {@link FLAGS}. */
interface FlagSpec<K extends keyof ShipConfig = keyof ShipConfig> {
  /** The flag's name, kebab-case, without `--`. Its snake_case spelling is accepted too. */
  name: string;
  /** The config field it sets. */
  key: K;
  /** `--help` section. */
  group: (typeof GROUPS)[number];
  /** `--help` text; `\n` starts a continuation line. */
  help: string;
  /** Value placeholder in `--help` (`NAME`, `SIZE`); absent: a boolean switch. */
  arg?: string;
  /** Reads the value; throws a plain `Error` whose message says what to give instead. */
  parse?: (text: string) => ShipConfig[K];
  /** Repeatable: each value is appended to the (array) field. */
  multiple?: boolean;
  /** One-letter form (`h` for `-h`). */
  short?: string;
  /** Other accepted names: the seed plugin's where they differ from `name` in snake_case. */
  aliases?: readonly string[];
  /**
   * A warning printed (once) when the flag is given, naming it as typed; never
   * containing the value. `fromFile`: it came from `--config`.
   */
  warn?: (typed: string, fromFile: boolean) => string | undefined;
}

/** Typed row constructor: ties `parse` to the field it fills. */
const flag = <K extends keyof ShipConfig>(spec: FlagSpec<K>): FlagSpec => spec as FlagSpec;

const text = (t: string): string => t;

/**
 * Every flag. Rows in `--help` order within their group; the seed plugin's
 * names are the snake_case spellings plus the explicit `aliases`.
 */
const FLAGS: readonly FlagSpec[] = [
  // Target
  flag({
    name: "config",
    key: "configFile",
    group: "Target",
    arg: "FILE",
    parse: text,
    help: "read options from FILE, one `stream_name = logs` per line\n" +
      "(the seed plugin's names; flags win over the file)",
  }),
  flag({
    name: "stream-name",
    key: "streamName",
    group: "Target",
    arg: "NAME",
    parse: text,
    help: "stream to write to (required unless --local)",
  }),
  flag({
    name: "region",
    key: "region",
    group: "Target",
    arg: "REGION",
    parse: text,
    help: "AWS region (env AWS_REGION, AWS_DEFAULT_REGION)",
  }),
  flag({
    name: "endpoint",
    key: "endpoint",
    group: "Target",
    arg: "URL",
    parse: text,
    help: "Kinesis endpoint (env AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL)",
  }),
  flag({
    name: "local",
    key: "local",
    group: "Target",
    help: "start kinesis-mock on loopback, create the stream,\n" +
      "ship, then read it back and check every record",
  }),
  // Credentials
  flag({
    name: "aws-key-id",
    key: "awsKeyId",
    group: "Credentials",
    arg: "ID",
    parse: text,
    help: "access key id     } prefer env vars or a profile:",
  }),
  flag({
    name: "aws-sec-key",
    key: "awsSecKey",
    group: "Credentials",
    arg: "KEY",
    parse: text,
    help: "secret access key } flags show up in ps and history",
    // In a config file the key is not in ps or shell history.
    warn: (typed, fromFile) =>
      fromFile ? undefined : `warning: ${typed} is visible in ps and shell history; prefer ` +
        "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile (AWS_PROFILE) or --config FILE",
  }),
  flag({
    name: "role-arn",
    key: "roleArn",
    group: "Credentials",
    arg: "ARN",
    parse: text,
    help: "assume this role with STS",
  }),
  flag({
    name: "external-id",
    key: "externalId",
    group: "Credentials",
    arg: "ID",
    parse: text,
    help: "external id for --role-arn",
  }),
  flag({
    name: "http-proxy",
    key: "httpProxy",
    group: "Credentials",
    arg: "URL",
    parse: text,
    help: "proxy for Kinesis and STS, e.g. http://squid:3128/",
  }),
  // Shipping
  flag({
    name: "fixed-partition-key",
    key: "fixedPartitionKey",
    group: "Shipping",
    arg: "KEY",
    parse: text,
    help: "one key for every chunk (default: random per chunk)",
  }),
  flag({
    name: "partition-key-field",
    key: "partitionKeyField",
    group: "Shipping",
    arg: "PATH",
    parse: (t) => (parseFieldPath(t), t),
    help:
      "each line's partition key from this JSON field (dotted path,\nstring or number up to 2^53): keyed mode with the stream's shard map",
  }),
  flag({
    name: "explicit-hash-key-field",
    key: "explicitHashKeyField",
    group: "Shipping",
    arg: "PATH",
    parse: (t) => (parseFieldPath(t), t),
    help: "each line's explicit hash key from this JSON field (keyed mode)",
  }),
  flag({
    name: "num-threads",
    key: "numThreads",
    group: "Shipping",
    arg: "N",
    parse: (t) => integer(t, 1, 1024),
    help: "PutRecord calls in flight (default 8)",
  }),
  flag({
    name: "detach-process",
    key: "detachProcess",
    group: "Shipping",
    arg: "N",
    parse: (t) => integer(t, 0, 1024),
    help: "accepted for the seed plugin; one process, use --num-threads",
    warn: (typed) =>
      `warning: ${typed} has no effect: this is one process; ` +
      "use --num-threads for parallel PutRecord calls",
  }),
  flag({
    name: "chunk-limit",
    key: "chunkLimit",
    group: "Shipping",
    arg: "SIZE",
    aliases: ["buffer_chunk_limit"],
    parse: (t) =>
      size(t, 1, DEFAULT_MAX_RECORD_BYTES, "1", "1m (the Kinesis record limit)", "300k"),
    help: "target chunk size: 300k, 1m (default 250000 = 10 payload units, max 1m)",
  }),
  flag({
    name: "linger",
    key: "lingerMs",
    group: "Shipping",
    arg: "DURATION",
    parse: (t) => duration(t, 3_600_000),
    help: "longest wait for a chunk to fill: 500ms, 2s (default 500ms)",
  }),
  flag({
    name: "max-retries",
    key: "maxRetries",
    group: "Shipping",
    arg: "N",
    parse: (t) => integer(t, 0, 100),
    help: "retries per chunk (default 9)",
  }),
  flag({
    name: "max-records",
    key: "maxRecords",
    group: "Shipping",
    arg: "N",
    parse: (t) => integer(t, 1, 10_000_000),
    help: "most records per chunk (default: as many as fit)",
  }),
  flag({
    name: "buffer-size",
    key: "bufferBytes",
    group: "Shipping",
    arg: "SIZE",
    parse: (t) => size(t, DEFAULT_MAX_RECORD_BYTES, 4 * 1024 ** 3, "1m", "4g", "64m"),
    help: "most bytes held in memory; reading waits while full (default 4m)",
  }),
  flag({
    name: "request-timeout",
    key: "requestTimeoutMs",
    group: "Shipping",
    arg: "DURATION",
    parse: (t) => duration(t, 3_600_000, 1),
    help: "per-attempt HTTP timeout (default 10s + 1s per 64 KiB sent)",
  }),
  flag({
    name: "deadline",
    key: "deadlineMs",
    group: "Shipping",
    arg: "DURATION",
    parse: (t) => duration(t, 86_400_000, 1),
    help: "a chunk still undelivered this long after it was cut fails (default 2m)",
  }),
  flag({
    name: "protocol",
    key: "protocol",
    group: "Shipping",
    arg: "json|cbor",
    parse: (t) => {
      if (t === "json" || t === "cbor") return t;
      throw new Error("use json or cbor");
    },
    help: "wire protocol (default json)",
  }),
  flag({
    name: "aggregation",
    key: "aggregation",
    group: "Shipping",
    arg: AGGREGATION_MODES.join("|"),
    parse: (t) => {
      try {
        return resolveAggregation(t);
      } catch {
        throw new Error(`use ${AGGREGATION_MODES.join(" or ")}`);
      }
    },
    help:
      "on: KPL aggregates; off: one Kinesis record per line,\nbatched by PutRecords, for consumers without a deaggregator;\nauto: aggregate unless the stream places records itself\n(RecordDistributionStrategy AUTO) (default on)",
  }),
  flag({
    name: "collect",
    key: "collect",
    group: "Shipping",
    arg: "on|off",
    parse: (t) => {
      if (t === "on" || t === "off") return t === "on";
      throw new Error("use on or off");
    },
    help: "send several ready chunks in one PutRecords (default on)",
  }),
  flag({
    name: "keep-empty",
    key: "keepEmpty",
    group: "Shipping",
    help: "ship empty lines too (default: skip them)",
  }),
  // Failures
  flag({
    name: "dead-letter",
    key: "deadLetter",
    group: "Failures",
    arg: "FILE",
    parse: text,
    help: "where failed records go, appended as NDJSON lines\n" +
      '{"data"|"data_b64", "reason", "error"}\n' +
      `(default ${DEFAULT_DEAD_LETTER}, created on first failure)`,
  }),
  flag({
    name: "replay",
    key: "replay",
    group: "Failures",
    arg: "FILE",
    multiple: true,
    parse: (t) => [t],
    help: "ship the records of a dead-letter file again (repeatable)",
  }),
  flag({
    name: "replay-fragments",
    key: "replayFragments",
    group: "Failures",
    help: "with --replay, send lines cut by a signal too\n" +
      '(marked "fragment": true; skipped and kept by default)',
  }),
  // Intake
  flag({
    name: "listen",
    key: "listen",
    group: "Intake",
    arg: "HOST:PORT",
    parse: parseListen,
    help: "HTTP intake: POST NDJSON or a JSON array; answers after\n" +
      "delivery (200, or 503 with the failed count); :PORT binds loopback",
  }),
  flag({
    name: "listen-token-file",
    key: "listenTokenFile",
    group: "Intake",
    arg: "FILE",
    parse: text,
    help: "bearer token every request must carry (or env SHIP_LISTEN_TOKEN);\n" +
      "required for any address but loopback",
  }),
  flag({
    name: "listen-max-records",
    key: "listenMaxRecords",
    group: "Intake",
    arg: "N",
    parse: (t) => integer(t, 1, 10_000_000),
    help: "records per request, else 413 and nothing shipped (default 100000)",
  }),
  flag({
    name: "listen-max-bytes",
    key: "listenMaxBytes",
    group: "Intake",
    arg: "SIZE",
    parse: (t) => size(t, 1, 1024 ** 3, "1", "1g", "64m"),
    help: "bytes per request after gzip decoding (default 64m; 8m as sent)",
  }),
  flag({
    name: "listen-max-pending",
    key: "listenMaxPending",
    group: "Intake",
    arg: "N",
    parse: (t) => integer(t, 1, 1024),
    help: "requests read and held in memory at once; more wait unread,\n" +
      "past 8 waiting per slot 503 busy (default 4)",
  }),
  flag({
    name: "listen-grace",
    key: "listenGraceMs",
    group: "Intake",
    arg: "DURATION",
    parse: (t) => duration(t, 600_000),
    help: "on SIGTERM, drop requests still sending after this (default 5s)",
  }),
  flag({
    name: "listen-ack",
    key: "listenAck",
    group: "Intake",
    arg: "WHEN",
    parse: (t) => {
      if (t === "delivery" || t === "spool") return t;
      throw new Error("use delivery or spool");
    },
    help: "delivery (default) or spool: when to answer 200",
  }),
  // Durability
  flag({
    name: "follow",
    key: "follow",
    group: "Durability",
    arg: "PATTERN",
    multiple: true,
    parse: (t) => [t],
    help: "tail -F a file or glob ('/var/log/app/*.log'), repeatable",
  }),
  flag({
    name: "checkpoint",
    key: "checkpoint",
    group: "Durability",
    arg: "FILE|DIR",
    parse: text,
    help: "keep each file's delivered offset; restarts resume",
  }),
  flag({
    name: "checkpoint-interval",
    key: "checkpointIntervalMs",
    group: "Durability",
    arg: "TIME",
    parse: (t) => duration(t, 3_600_000),
    help: "least time between checkpoint writes (default 1s)",
  }),
  flag({
    name: "spool",
    key: "spool",
    group: "Durability",
    arg: "DIR",
    parse: text,
    help: "stdin/--listen: records hit DIR before acceptance",
  }),
  flag({
    name: "spool-max",
    key: "spoolMaxBytes",
    group: "Durability",
    arg: "SIZE",
    parse: (t) => {
      const size = parseSize(t);
      if (size === undefined || size < 1024 * 1024) throw new Error("use a size of 1m or more");
      return size;
    },
    help: "spool cap; input waits when full (default 1g)",
  }),
  flag({
    name: "spool-fsync",
    key: "spoolFsyncMs",
    group: "Durability",
    arg: "WHEN",
    parse: (t) => t === "always" ? 0 : t === "never" ? -1 : duration(t, 3_600_000),
    help: "always, at most every DURATION (1s), or never",
  }),
  flag({
    name: "start-over",
    key: "startOver",
    group: "Durability",
    help: "set aside a bad checkpoint/spool, forget vanished files",
  }),
  flag({
    name: "poll-interval",
    key: "pollMs",
    group: "Durability",
    arg: "TIME",
    parse: (t) => duration(t, 60_000),
    help: "how often --follow checks its files (default 250ms)",
  }),
  flag({
    name: "partial-line-wait",
    key: "partialLineWaitMs",
    group: "Durability",
    arg: "TIME",
    parse: (t) => duration(t, 3_600_000),
    help: "ship a line lacking its newline after this idle (2s)",
  }),
  flag({
    name: "rotate-wait",
    key: "rotateWaitMs",
    group: "Durability",
    arg: "TIME",
    parse: (t) => duration(t, 3_600_000),
    help: "read a rotated-away file until idle this long (5s)",
  }),
  // Output
  flag({
    name: "json",
    key: "json",
    group: "Output",
    help: "print the summary as JSON on stdout",
  }),
  flag({
    name: "debug",
    key: "debug",
    group: "Output",
    help: "log every AWS call on stderr (never keys or data)",
  }),
  flag({
    name: "help",
    key: "help",
    group: "Output",
    short: "h",
    help: "show this help",
  }),
];

/** The config before any flag: every field's default. */
function defaults(): ShipConfig {
  return {
    inputs: [],
    replay: [],
    replayFragments: false,
    listenGraceMs: 5000,
    listenMaxRecords: 100_000,
    listenMaxBytes: 64 * 1024 * 1024,
    listenMaxPending: 4,
    numThreads: 8,
    chunkLimit: DEFAULT_TARGET_BYTES,
    debug: false,
    protocol: "json",
    aggregation: "on",
    collect: true,
    lingerMs: 500,
    maxRetries: 9,
    deadLetter: DEFAULT_DEAD_LETTER,
    json: false,
    help: false,
    local: false,
    keepEmpty: false,
    deadlineMs: 120_000,
    bufferBytes: 4 * 1024 * 1024,
    maxRecords: Infinity,
    follow: [],
    checkpointIntervalMs: 1000,
    startOver: false,
    pollMs: 250,
    partialLineWaitMs: 2000,
    rotateWaitMs: 5000,
    spoolMaxBytes: 1024 * 1024 * 1024,
    spoolFsyncMs: 1000,
    listenAck: "delivery",
    warnings: [],
  };
}

const HELP_HEAD = `Usage: kinesis-ship [options] [FILE...]    (in a clone: deno task ship ...)
Ship newline-delimited records (one line = one record, exact bytes, no newline)
into a Kinesis data stream as KPL aggregates: one chunk = one PutRecord.
FILE may be repeated; none or "-" reads stdin.

Try it with no AWS account:  deno task ship --local examples/sample.ndjson
`;

const HELP_TAIL = `
The seed plugin's names work too: --stream_name, --aws_key_id, --buffer_chunk_limit, ...
Progress goes to stderr only when it is a terminal; the summary comes at the end.
SIGINT/SIGTERM: stop reading, deliver what was read, write dead letters, summarize.
Exit codes: 0 all delivered; 1 some records failed (or --local found a mismatch);
2 invalid configuration; 3 unreadable input; 4 emulator or listener could not start;
5 records lost (the dead-letter file could not be written: disk full, I/O error);
130/143 stopped by SIGINT/SIGTERM with everything read delivered.
`;

const HELP_COLUMN = 29;

function helpText(): string {
  const out = [HELP_HEAD];
  for (const group of GROUPS) {
    out.push(
      group === "Credentials"
        ? "Credentials (default: env, AWS_PROFILE / shared files, web identity, container, IMDS)"
        : group,
    );
    for (const spec of FLAGS) {
      if (spec.group !== group || spec.key === "detachProcess") continue;
      const left = `  ${spec.short ? `-${spec.short}, ` : ""}--${spec.name}${
        spec.arg ? ` ${spec.arg}` : ""
      }`;
      const [first, ...rest] = spec.help.split("\n");
      out.push(`${left.padEnd(HELP_COLUMN - 2)}  ${first}`);
      for (const line of rest) out.push(" ".repeat(HELP_COLUMN) + line);
    }
  }
  return out.join("\n") + "\n" + HELP_TAIL;
}

/** The `--help` text: every flag, the environment and the exit codes. */
export const HELP: string = helpText();

/** Every accepted spelling (without `--`) to its row. */
const BY_NAME = new Map<string, FlagSpec>();
for (const spec of FLAGS) {
  for (const name of [spec.name, spec.name.replaceAll("-", "_"), ...(spec.aliases ?? [])]) {
    BY_NAME.set(name, spec);
  }
}

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

function integer(text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new Error(`it must be an integer from ${min} to ${max}`);
  return n;
}

function duration(text: string, maxMs: number, minMs = 0): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms > maxMs || ms < minMs) {
    throw new Error("use a duration such as 500ms or 2s");
  }
  return ms;
}

function size(
  text: string,
  min: number,
  max: number,
  minText: string,
  maxText: string,
  example: string,
): number {
  const bytes = parseSize(text);
  if (bytes === undefined || bytes < min || bytes > max) {
    throw new Error(`use a size from ${minText} to ${maxText}, such as ${example}`);
  }
  return bytes;
}

// Below this a chunk holds at most a handful of small records (and none of ordinary size),
// so nearly every record costs its own PutRecord and at least one 25 KB payload unit.
const SMALL_CHUNK_BYTES = 4096;
// An aggregate of two 1-byte records under a 36-character random key: magic + MD5 (20),
// the key's table entry (38), two records of 7 bytes each, and the key Kinesis counts (36).
const MIN_AGGREGATE_OF_TWO = 20 + 38 + 2 * 7 + 36;

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new Error("use HOST:PORT, for example 127.0.0.1:8080");
  }
  // No host: loopback only. Every interface must be asked for (0.0.0.0, and then a token).
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

/** Edit distance (insert, delete, substitute, swap neighbours), for "did you mean". */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}

/**
 * The known flag nearest to an unknown one (`strem-name` → `--stream-name`),
 * or `undefined` when nothing is close. A unique prefix counts as close.
 *
 * @example
 * ```ts
 * import { suggestFlag } from "./args.ts";
 * console.log(suggestFlag("--num_thread")); // "--num_threads"
 * ```
 */
export function suggestFlag(unknown: string): string | undefined {
  const typed = unknown.replace(/^-+/, "").toLowerCase();
  if (typed === "") return undefined;
  const names = [...BY_NAME.keys()];
  const prefixed = new Set(names.filter((n) => n.startsWith(typed)).map((n) => BY_NAME.get(n)));
  if (typed.length >= 3 && prefixed.size === 1) {
    const spec = [...prefixed][0]!;
    return `--${typed.includes("_") ? spec.name.replaceAll("-", "_") : spec.name}`;
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = distance(typed, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(typed.length / 3)));
  return best !== undefined && bestDistance <= allowed ? `--${best}` : undefined;
}

function unknownOption(raw: string): UsageError {
  const hint = suggestFlag(raw);
  return new UsageError(
    `Unknown option ${raw}${hint ? `: did you mean ${hint}?` : ""} (see --help)`,
  );
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
export function parseArgs(
  argv: readonly string[],
  readConfig: (path: string) => ConfigEntry[] = readConfigFile,
): ShipConfig {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, spec] of BY_NAME) {
    options[name] = { type: spec.arg ? "string" : "boolean" };
    if (spec.short && name === spec.name) options[name].short = spec.short;
  }
  // Not strict: unknown flags and missing values come back as tokens, and are
  // reported here in our words (with a suggestion) rather than node's.
  const { tokens } = parseArgv({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const inputs: string[] = [];
  const flags: { spec: FlagSpec; typed: string; value: string | true }[] = [];
  const given = new Map<FlagSpec, string>(); // row → the spelling used first
  for (const token of tokens) {
    if (token.kind === "positional") {
      inputs.push(token.value);
      continue;
    }
    if (token.kind !== "option") continue; // "--": what follows is positional
    const spec = BY_NAME.get(token.name);
    if (!spec || (token.rawName.length === 2 && token.rawName[1] !== spec.short)) {
      throw unknownOption(token.rawName);
    }
    const raw = token.rawName;
    if (given.has(spec) && !spec.multiple) {
      const first = given.get(spec)!;
      throw new UsageError(
        `Option ${raw} was given twice${first === raw ? "" : ` (also as ${first})`}; give it once`,
      );
    }
    given.set(spec, given.get(spec) ?? raw);
    if (!spec.arg) {
      if (token.value !== undefined) throw new UsageError(`Option ${raw} takes no value`);
      flags.push({ spec, typed: raw, value: true });
      continue;
    }
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith("--") && value !== "--")) {
      throw new UsageError(`Option ${raw} needs a value (see --help)`);
    }
    if (value === "") throw new UsageError(`Option ${raw} needs a non-empty value`);
    flags.push({ spec, typed: raw, value });
  }

  const config = defaults();
  config.inputs = inputs;
  const target = config as unknown as Record<string, unknown>;
  const set = (spec: FlagSpec, typed: string, value: string | true) => {
    let parsed: unknown = true;
    if (spec.arg) {
      try {
        parsed = spec.parse!(value as string);
      } catch (error) {
        // Secrets are never echoed: only non-secret values appear in the message.
        const shown = spec.key === "awsSecKey" ? "" : ` to ${JSON.stringify(value)}`;
        throw new UsageError(`Cannot set ${typed}${shown}: ${(error as Error).message}`);
      }
    }
    target[spec.key] = spec.multiple
      ? [...(target[spec.key] as unknown[]), ...(parsed as unknown[])]
      : parsed;
  };
  // The file first, for the options no flag gives: flags win, lists included.
  const fromFile = new Set<FlagSpec>();
  const configFlag = flags.find((f) => f.spec.key === "configFile");
  if (configFlag) {
    for (const entry of readConfig(configFlag.value as string)) {
      const where = `${entry.name} in --config ${configFlag.value}`;
      if (entry.name === "type" || entry.name === "@type") continue; // Fluentd's plugin name
      const spec = BY_NAME.get(entry.name);
      if (!spec || spec.key === "configFile" || spec.key === "help") {
        const hint = spec ? undefined : suggestFlag(entry.name)?.replace(/^--/, "");
        throw new UsageError(
          `Unknown option ${where}${hint ? `: did you mean ${hint}?` : ""} (see --help)`,
        );
      }
      if (given.has(spec)) continue; // the flag wins; the file's value is not even read
      for (const value of Array.isArray(entry.value) ? entry.value : [entry.value]) {
        if (!spec.arg && typeof value !== "boolean") {
          throw new UsageError(`Cannot set ${where}: use true or false`);
        }
        if (value === false) continue;
        set(spec, where, spec.arg ? String(value) : true);
      }
      fromFile.add(spec);
    }
  }
  for (const { spec, typed, value } of flags) {
    if (spec.key !== "configFile") set(spec, typed, value);
  }
  for (const [spec, typed] of given) {
    const warning = spec.warn?.(typed, false);
    if (warning) config.warnings.push(warning);
  }
  for (const spec of fromFile) {
    const warning = spec.warn?.(spec.name.replaceAll("-", "_"), true);
    if (warning) config.warnings.push(warning);
  }
  checkCombinations(config);
  if (config.chunkLimit < SMALL_CHUNK_BYTES) config.warnings.push(smallChunkWarning(config));
  return config;
}

function smallChunkWarning(c: ShipConfig): string {
  const largest = Math.floor((c.chunkLimit - MIN_AGGREGATE_OF_TWO) / 2) + 1;
  const what = largest < 1
    ? "no two records fit in one aggregate, so every record ships in its own PutRecord"
    : `only records of up to about ${largest} bytes can share an aggregate; larger ones ship ` +
      "one per PutRecord";
  return `warning: --chunk-limit ${c.chunkLimit} is too small to aggregate: ${what} ` +
    "(each billed at least one 25 KB unit); use 64k or more (default 250000)";
}

/** Flags that only make sense together, or not at all together. */
function checkCombinations(c: ShipConfig): void {
  if ((c.awsKeyId === undefined) !== (c.awsSecKey === undefined)) {
    throw new UsageError(
      "Options --aws-key-id and --aws-sec-key go together: give both or neither",
    );
  }
  if (c.externalId !== undefined && c.roleArn === undefined) {
    throw new UsageError("Option --external-id needs --role-arn");
  }
  if (c.local && c.endpoint !== undefined) {
    throw new UsageError(
      "Options --local and --endpoint exclude each other: --local picks its own",
    );
  }
  if (c.listen !== undefined && (c.inputs.length > 0 || c.replay.length > 0)) {
    throw new UsageError("Option --listen reads from HTTP: give no FILE and no --replay");
  }
  if (c.replay.length > 0 && c.inputs.length > 0) {
    throw new UsageError("Option --replay reads dead-letter files: give no other FILE");
  }
  if (c.follow.length > 0 && (c.inputs.length > 0 || c.replay.length > 0 || c.listen)) {
    throw new UsageError(
      "Option --follow names the files to read: give no FILE, --replay or --listen",
    );
  }
  const files = c.follow.length > 0 || (c.inputs.length > 0 && !c.inputs.includes("-"));
  if (c.checkpoint !== undefined && !files) {
    throw new UsageError(
      "Option --checkpoint is for files (FILE or --follow); stdin and --listen use --spool DIR",
    );
  }
  if (c.spool !== undefined && (files || c.replay.length > 0)) {
    throw new UsageError(
      "Option --spool is for stdin and --listen; files can be read again: use --checkpoint",
    );
  }
  if (c.listenAck === "spool" && (c.spool === undefined || c.listen === undefined)) {
    throw new UsageError("Option --listen-ack spool needs --listen and --spool DIR");
  }
}
