/**
 * `deno task ship`: newline-delimited records in, aggregated PutRecords out.
 * See `--help` ({@link HELP}) for flags, environment and exit codes.
 * @module
 */
import { readFileSync, writeSync } from "node:fs";
import process from "node:process";
import { formatDebugEvent } from "../aws/debug.ts";
import { resolveEndpoint, resolveRegion } from "../aws/endpoint.ts";
import { defaultCredentials } from "../aws/credentials/chain.ts";
import { fromAssumeRole } from "../aws/credentials/sts.ts";
import { fromStatic } from "../aws/credentials/static.ts";
import { regionFromEnv } from "../aws/credentials/env.ts";
import { regionFromProfile } from "../aws/credentials/profile_region.ts";
import { KinesisClient } from "../aws/kinesis_client.ts";
import type { CredentialProvider, FetchLike } from "../aws/types.ts";
import { validatePartitionKey } from "../format/keys.ts";
import { DEFAULT_MAX_RECORD_BYTES } from "../format/limits.ts";
import { KinesisProducer } from "../producer/producer.ts";
import { type ProxiedFetch, proxyFetch, redactUrl } from "../runtime/proxy.ts";
import { envProxyFetch, readProxyEnv } from "../runtime/proxy_env.ts";
import { HELP, parseArgs, type ShipConfig } from "./args.ts";
import { Checkpoint } from "./checkpoint.ts";
import { DeadLetterFile } from "./dead_letter.ts";
import { FileInput } from "./file_input.ts";
import { Spool, SpoolError } from "../runtime/spool.ts";
import { replaySpool, shipSpooled } from "./spool_input.ts";
import { EnvironmentError, ExitCode, InputError, UsageError } from "./errors.ts";
import { type InputSource, openInputs } from "./input.ts";
import type { KinesisMock } from "./kinesis_mock.ts";
import { type LineEvent, LineSplitter } from "./lines.ts";
import { type StopReason, StopSwitch } from "./stop.ts";
import { isLoopback, MAX_BODY_BYTES, serveIntake } from "./listen.ts";
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_STREAM, startLocal } from "./local.ts";
import { Progress } from "./progress.ts";
import { CurrentProblem } from "./current_problem.ts";
import { FailFast } from "./fail_fast.ts";
import { Shipper } from "./shipper.ts";
import { buildSummary, formatSummary, type Summary } from "./summary.ts";
import { parseFieldPath } from "./key_fields.ts";
import { readBack, RecordDigest } from "./verify.ts";

/** Where a run writes; tests and embedders can capture it. */
export interface ShipIO {
  /** Writes to stdout. */
  stdout: (text: string) => void;
  /** Writes to stderr. */
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress is drawn only then). */
  stderrIsTerminal: boolean;
}

// A dead letter's JSON escapes can grow a record up to 6x (\u00XX); longer replay lines
// cannot hold a record under the limit.
const REPLAY_LINE_FACTOR = 6;

type Stop = StopReason;

/** Everything resolved before the first byte of input is read. */
interface Setup {
  streamName: string;
  region: string;
  endpoint?: string;
  credentials: CredentialProvider;
  fetch?: FetchLike;
  proxy?: ProxiedFetch;
}

async function resolveSetup(cfg: ShipConfig, io: ShipIO): Promise<Setup> {
  if (cfg.local) {
    if (cfg.awsKeyId || cfg.roleArn || cfg.httpProxy) {
      throw new UsageError(
        "Option --local uses its own emulator and dummy keys: drop --aws-key-id, --role-arn and --http-proxy",
      );
    }
    return {
      streamName: cfg.streamName ?? LOCAL_STREAM,
      region: cfg.region ?? LOCAL_REGION,
      credentials: fromStatic(LOCAL_CREDENTIALS),
    };
  }
  if (!cfg.streamName) {
    throw new UsageError(
      "Missing --stream-name (or use --local to try it on an embedded emulator)",
    );
  }
  let region: string;
  try {
    // As the AWS SDKs do: the flag, AWS_REGION, AWS_DEFAULT_REGION, then the profile's region.
    region = resolveRegion({
      region: cfg.region ?? regionFromEnv() ?? await regionFromProfile(),
    });
    resolveEndpoint(region, { endpoint: cfg.endpoint });
  } catch (error) {
    if ((error as { code?: string }).code === "MissingRegion") {
      throw new UsageError(
        "Missing --region (or set AWS_REGION / AWS_DEFAULT_REGION, or region in the profile " +
          "of ~/.aws/config)",
      );
    }
    throw new UsageError((error as Error).message.replace(/^\w+: /, ""), { cause: error });
  }
  let proxy: ProxiedFetch | undefined;
  if (cfg.httpProxy) {
    try {
      proxy = await proxyFetch(cfg.httpProxy);
    } catch (error) {
      const message = (error as Error).message;
      // URL errors already quote the (redacted) value and the fix; others get it here.
      throw new UsageError(
        message.startsWith("Cannot use proxy URL")
          ? message.replace("Cannot use proxy URL", "Cannot use --http-proxy")
          : `Cannot use --http-proxy ${redactUrl(cfg.httpProxy)}: ${message}`,
      );
    }
  } else {
    // HTTPS_PROXY / HTTP_PROXY / NO_PROXY: a proxy password never has to be on the command line.
    const env = readProxyEnv((name) => process.env[name]);
    try {
      proxy = await envProxyFetch(env);
    } catch (error) {
      const from = [env.https?.from, env.http?.from].filter(Boolean).join(" / ");
      throw new UsageError(`Cannot use the proxy in ${from}: ${(error as Error).message}`);
    }
  }
  const debug = cfg.debug
    ? (e: Parameters<typeof formatDebugEvent>[0]) => io.stderr(formatDebugEvent(e) + "\n")
    : undefined;
  let credentials: CredentialProvider = cfg.awsKeyId
    ? fromStatic({ accessKeyId: cfg.awsKeyId, secretAccessKey: cfg.awsSecKey! })
    : defaultCredentials({ fetch: proxy, region, debug });
  if (cfg.roleArn) {
    credentials = fromAssumeRole({
      roleArn: cfg.roleArn,
      externalId: cfg.externalId,
      source: credentials,
      region,
      fetch: proxy,
      debug,
    });
  }
  // Resolved once now, so missing credentials stop the run before any input is read.
  try {
    await credentials();
  } catch (error) {
    await proxy?.close();
    throw new UsageError(`Cannot get AWS credentials: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    streamName: cfg.streamName,
    region,
    endpoint: cfg.endpoint,
    credentials,
    fetch: proxy,
    proxy,
  };
}

/** Reads one input into the shipper until it ends or the switch flips. Returns false when stopped. */
async function pumpInput(
  source: InputSource,
  shipper: Shipper,
  replay: boolean,
  stop: StopSwitch,
  spool?: Spool,
): Promise<boolean> {
  const splitter = new LineSplitter({
    maxLineBytes: replay
      ? REPLAY_LINE_FACTOR * DEFAULT_MAX_RECORD_BYTES + 4096
      : DEFAULT_MAX_RECORD_BYTES,
  });
  const handle = replay
    ? (e: LineEvent) => shipper.replayLine(e)
    : (e: LineEvent) => shipper.line(e);
  const handleAll = spool
    ? (events: Iterable<LineEvent>) => shipSpooled([...events], shipper, spool)
    : async (events: Iterable<LineEvent>) => {
      for (const e of events) await handle(e);
    };
  const reader = source.chunks();
  // Read chunks are freed as their lines settle (ours only: see ReadChunks).
  const chunks = source.ownsChunks ? shipper.readChunks : undefined;
  try {
    for (;;) {
      const next = await stop.race(reader.next());
      if (next === undefined) {
        // Stopped: every whole line read has been handled; keep the cut-off rest too.
        if (splitter.pendingBytes > 0 || shipper.overflowing) {
          if (shipper.overflowing) await handleAll(splitter.end());
          else shipper.interrupted(splitter.takePending());
        }
        return false;
      }
      if (next.done) {
        await handleAll(splitter.end());
        chunks?.fed(splitter);
        return true;
      }
      shipper.counts.bytesRead += next.value.length;
      chunks?.read(next.value, splitter);
      // Lines already read are shipped even after a signal: for stdin they exist nowhere else.
      await handleAll(splitter.feed(next.value));
      if (splitter.pendingBytes === 0) chunks?.fed(splitter);
    }
  } finally {
    // Leaves a pending read (an idle stdin) behind; the process exits after the summary.
    reader.return?.(undefined)?.catch(() => {});
  }
}

/**
 * Runs the command line `argv` (without the program name) and returns the
 * exit code. Never throws: usage and input errors become one-line messages.
 */
export async function main(argv: readonly string[], io: ShipIO = defaultIO()): Promise<number> {
  let cfg: ShipConfig;
  try {
    cfg = parseArgs(argv);
  } catch (error) {
    return report(error, io);
  }
  if (cfg.help) {
    io.stdout(HELP);
    return ExitCode.Ok;
  }
  for (const warning of cfg.warnings) io.stderr(warning + "\n");

  let started = performance.now();
  let setup: Setup | undefined;
  let deadLetters: DeadLetterFile | undefined;
  let sources: InputSource[] = [];
  let checkpoint: Checkpoint | undefined;
  let spool: Spool | undefined;
  let mock: KinesisMock | undefined;
  let progress: Progress | undefined;
  let built: KinesisProducer | undefined;
  const onSignal: ((signal: Stop) => void)[] = [];
  const signalHandlers = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const handler = () => onSignal.forEach((f) => f(signal));
    return [signal, handler] as const;
  });
  try {
    const listenToken = cfg.listen ? readListenToken(cfg) : undefined;
    setup = await resolveSetup(cfg, io).catch(asUsageError);
    const keyed = cfg.partitionKeyField !== undefined || cfg.explicitHashKeyField !== undefined;
    if (keyed && cfg.fixedPartitionKey !== undefined) {
      throw new UsageError(
        "Cannot combine --fixed-partition-key with --partition-key-field or --explicit-hash-key-field",
      );
    }
    if (cfg.fixedPartitionKey !== undefined) {
      try {
        validatePartitionKey(cfg.fixedPartitionKey);
      } catch (error) {
        throw new UsageError(`Cannot use --fixed-partition-key: ${(error as Error).message}`);
      }
    }
    for (const path of cfg.replay) {
      if (sameFile(path, cfg.deadLetter)) {
        throw new UsageError(
          `Cannot replay ${path} into itself: give another --dead-letter file`,
        );
      }
    }
    try {
      deadLetters = new DeadLetterFile(cfg.deadLetter);
    } catch (error) {
      throw new UsageError(
        `Cannot write the dead-letter file ${cfg.deadLetter}: ${(error as Error).message}`,
      );
    }
    const warn = (text: string) => io.stderr(`warning: ${text}\n`);
    if (cfg.spool !== undefined) {
      try {
        spool = Spool.open(cfg.spool, {
          maxBytes: cfg.spoolMaxBytes,
          fsyncMs: cfg.spoolFsyncMs,
          keepIntact: cfg.startOver,
          warn,
        });
      } catch (error) {
        if (error instanceof SpoolError) throw new EnvironmentError(error.message);
        throw error;
      }
    }
    const byFileInput = cfg.follow.length > 0 || cfg.checkpoint !== undefined;
    if (cfg.checkpoint !== undefined) {
      checkpoint = Checkpoint.open(cfg.checkpoint, {
        startOver: cfg.startOver,
        intervalMs: cfg.checkpointIntervalMs,
        warn,
      });
    }
    if (!cfg.listen && !byFileInput) {
      sources = await openInputs(cfg.replay.length > 0 ? cfg.replay : cfg.inputs);
    }

    const digest = cfg.local ? new RecordDigest() : undefined;
    const shipper = new Shipper({
      deadLetters,
      digest,
      keepEmpty: cfg.keepEmpty,
      replayFragments: cfg.replayFragments,
      maxRecordBytes: DEFAULT_MAX_RECORD_BYTES,
      keyFields: keyed
        ? {
          partitionKey: cfg.partitionKeyField !== undefined
            ? parseFieldPath(cfg.partitionKeyField)
            : undefined,
          explicitHashKey: cfg.explicitHashKeyField !== undefined
            ? parseFieldPath(cfg.explicitHashKeyField)
            : undefined,
        }
        : undefined,
    });
    if (cfg.local) {
      if (io.stderrIsTerminal) io.stderr("starting kinesis-mock…\n");
      mock = await startLocal(setup.streamName, setup.region);
      setup.endpoint = mock.endpoint;
    }
    const failFast = new FailFast();
    const problems = new CurrentProblem();
    let stopEarly = () => {};
    let producer: KinesisProducer;
    try {
      producer = new KinesisProducer({
        streamName: setup.streamName,
        region: setup.region,
        endpoint: setup.endpoint,
        credentials: setup.credentials,
        fetch: setup.fetch,
        protocol: cfg.protocol,
        aggregation: cfg.aggregation,
        collect: cfg.collect,
        partitionKey: cfg.fixedPartitionKey,
        // Calculated keys: keyed mode, with the stream's shard map (shards: "auto").
        keyed,
        targetBytes: cfg.chunkLimit,
        lingerMs: cfg.lingerMs,
        concurrency: cfg.numThreads,
        maxAttempts: cfg.maxRetries + 1,
        timeoutMs: cfg.requestTimeoutMs,
        deadlineMs: cfg.deadlineMs,
        maxBufferedBytes: cfg.bufferBytes,
        maxRecords: cfg.maxRecords,
        // Always a sink: fail-fast and the progress line read every attempt.
        debug: (e) => {
          problems.observe(e);
          const verdict = failFast.observe(e);
          if (verdict) {
            shipper.stoppedEarly = verdict.reason;
            stopEarly();
          }
          if (cfg.debug) io.stderr(formatDebugEvent(e) + "\n");
        },
        onFailure: shipper.onFailure,
        onDelivered: shipper.onDelivered,
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    shipper.producer = producer;
    built = producer;

    // Signals: the first stops reading and flushes; the second gives up on what is in flight.
    const stopSwitch = new StopSwitch();
    onSignal.push((signal) => {
      if (stopSwitch.reason === undefined) {
        stopSwitch.trigger(signal);
        io.stderr(`\n${signal}: stopping; delivering what was read (send it again to give up)\n`);
      } else {
        io.stderr(`${signal} again: giving up; undelivered records go to ${cfg.deadLetter}\n`);
        producer.close({ deadlineMs: 0 });
      }
    });
    for (const [signal, handler] of signalHandlers) process.on(signal, handler);
    // Nothing can succeed: stop reading, give up on what is queued (it goes to the dead-letter file).
    stopEarly = () => {
      stopSwitch.trigger("fail-fast");
      producer.close({ deadlineMs: 0 });
    };

    started = performance.now(); // elapsed counts shipping, not emulator start-up
    if (io.stderrIsTerminal) {
      progress = new Progress({
        write: io.stderr,
        stats: () => producer.stats,
        problem: () => problems.text,
      });
      progress.start();
    }
    let inputError: InputError | undefined;
    let fileInput: FileInput | undefined;
    try {
      if (spool) {
        const replayed = await replaySpool(spool, shipper);
        if (replayed > 0) {
          warn(`spool ${cfg.spool}: shipping ${replayed} records left by an earlier run`);
        }
      }
      if (byFileInput) {
        fileInput = new FileInput({
          patterns: cfg.follow.length > 0 ? cfg.follow : cfg.inputs,
          follow: cfg.follow.length > 0,
          checkpoint,
          startOver: cfg.startOver,
          pollMs: cfg.pollMs,
          partialLineWaitMs: cfg.partialLineWaitMs,
          rotateWaitMs: cfg.rotateWaitMs,
          maxLineBytes: DEFAULT_MAX_RECORD_BYTES,
          maxUnsettledBytes: 2 * cfg.bufferBytes,
          shipper,
          stop: stopSwitch,
          warn,
          ownPaths: [
            cfg.deadLetter,
            ...(checkpoint ? [checkpoint.path] : []),
            ...(cfg.spool !== undefined ? [cfg.spool] : []),
          ],
        });
        await fileInput.run();
      } else if (cfg.listen) {
        await serveIntake({
          ...cfg.listen,
          token: listenToken,
          limits: {
            maxBodyBytes: MAX_BODY_BYTES,
            maxDecodedBytes: cfg.listenMaxBytes,
            maxRecords: cfg.listenMaxRecords,
          },
          graceMs: cfg.listenGraceMs,
          maxPending: cfg.listenMaxPending,
          shipper,
          producer,
          stopped: stopSwitch.wait(),
          io,
          spool,
          ackOnSpool: cfg.listenAck === "spool",
        });
      } else {
        for (const source of sources) {
          if (!await pumpInput(source, shipper, cfg.replay.length > 0, stopSwitch, spool)) break;
        }
      }
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      inputError = error;
    }
    await producer.flush();
    await producer.close();
    fileInput?.save(true);
    const stop = stopSwitch.reason;
    progress?.stop();
    progress = undefined;

    let verify: Summary["verify"];
    if (mock && digest) {
      const back = await readBack(
        new KinesisClient({
          region: setup.region,
          endpoint: mock.endpoint,
          credentials: setup.credentials,
        }),
        setup.streamName,
      );
      verify = {
        ok: back.digest.equals(digest),
        recordsReadBack: back.digest.count,
        kinesisRecords: back.kinesisRecords,
        expectedDigest: digest.hex,
        actualDigest: back.digest.hex,
      };
    }
    // Flushed now, so a line the disk drops at the end still counts as lost.
    deadLetters.close();
    shipper.counts.lost = deadLetters.lost;
    shipper.counts.deadLetters = deadLetters.count;
    const lost = shipper.counts.lost + producer.stats.recordsLost;
    const failed = deadLetters.count > 0 || (verify !== undefined && !verify.ok);
    const exitCode = lost > 0
      ? ExitCode.Lost
      : inputError
      ? ExitCode.Input
      : failed
      ? ExitCode.Failed
      : stop === "fail-fast"
      ? ExitCode.Failed
      : stop === "SIGINT"
      ? ExitCode.Interrupted
      : stop === "SIGTERM"
      ? ExitCode.Terminated
      : ExitCode.Ok;
    const summary = buildSummary(producer.stats, shipper.counts, performance.now() - started, {
      deadLetterFile: deadLetters.count > 0 ? cfg.deadLetter : undefined,
      interrupted: stop === "fail-fast" ? undefined : stop,
      verify,
      exitCode,
      failureReasons: shipper.reasons.top(3),
      stoppedEarly: failFast.verdict,
    });
    if (inputError) io.stderr(`error: ${inputError.message}\n`);
    if (failFast.verdict) {
      const v = failFast.verdict;
      io.stderr(
        `error: stopped early: the first ${v.attempts} PutRecord attempts all failed, none ` +
          `succeeded: ${v.reason}\n  hint: ${v.hint}\n`,
      );
    }
    if (lost > 0) {
      io.stderr(
        `error: ${lost} records lost (neither delivered nor dead-lettered): ${
          deadLetters.lastError ?? "a failure callback threw"
        }\n`,
      );
    }
    if (cfg.json) io.stdout(JSON.stringify(summary) + "\n");
    else io.stderr(formatSummary(summary));
    return exitCode;
  } catch (error) {
    progress?.stop();
    // An unexpected error must not drop what is buffered: deliver it (failures go to the file).
    await built?.close().catch(() => {});
    return report(error, io);
  } finally {
    for (const [signal, handler] of signalHandlers) process.off(signal, handler);
    deadLetters?.close();
    checkpoint?.close();
    spool?.close();
    await Promise.all(sources.map((s) => s.close()));
    await mock?.stop();
    await setup?.proxy?.close();
  }
}

/** The intake's bearer token: `--listen-token-file`, else `SHIP_LISTEN_TOKEN`; required off loopback. */
function readListenToken(cfg: ShipConfig): string | undefined {
  let token: string | undefined;
  if (cfg.listenTokenFile !== undefined) {
    try {
      token = readFileSync(cfg.listenTokenFile, "utf8").trim();
    } catch (error) {
      throw new UsageError(
        `Cannot read --listen-token-file ${cfg.listenTokenFile}: ${(error as Error).message}`,
      );
    }
    if (token === "") {
      throw new UsageError(`Cannot use --listen-token-file ${cfg.listenTokenFile}: it is empty`);
    }
  } else {
    token = process.env.SHIP_LISTEN_TOKEN?.trim() || undefined;
  }
  if (token === undefined && !isLoopback(cfg.listen!.host)) {
    throw new UsageError(
      `Cannot listen on ${
        cfg.listen!.host
      } without a bearer token: give --listen-token-file FILE or set SHIP_LISTEN_TOKEN (or listen on loopback, :PORT)`,
    );
  }
  return token;
}

/**
 * Everything resolved before input is read is configuration: a library's
 * validation error (`TypeError`, `RangeError`, a credentials configuration
 * error) becomes a one-line usage error, exit 2, instead of a stack trace.
 */
function asUsageError(error: unknown): never {
  if (
    error instanceof UsageError || error instanceof EnvironmentError ||
    error instanceof InputError || !(error instanceof Error)
  ) throw error;
  throw new UsageError(error.message.split("\n")[0], { cause: error });
}

function sameFile(a: string, b: string): boolean {
  const resolve = (p: string) => new URL(p, `file://${process.cwd()}/`).pathname;
  return resolve(a) === resolve(b);
}

/** Prints a known error as one line and maps it to its exit code; anything else keeps its stack. */
function report(error: unknown, io: ShipIO): number {
  if (
    error instanceof UsageError || error instanceof InputError || error instanceof EnvironmentError
  ) {
    io.stderr(`error: ${error.message}\n`);
    return error.exitCode;
  }
  io.stderr(`error: ${(error as Error)?.stack ?? String(error)}\n`);
  return ExitCode.Failed;
}

function defaultIO(): ShipIO {
  const encoder = new TextEncoder();
  // Synchronous writes: the process exits right after the summary, and must not lose it.
  const write = (fd: 1 | 2) => (text: string) => {
    const bytes = encoder.encode(text);
    let pos = 0;
    while (pos < bytes.length) {
      try {
        pos += writeSync(fd, bytes, pos, bytes.length - pos);
      } catch (error) {
        if ((error as { code?: string }).code !== "EAGAIN") return;
      }
    }
  };
  return { stdout: write(1), stderr: write(2), stderrIsTerminal: Boolean(process.stderr.isTTY) };
}

/**
 * The command's entry: runs {@link main} on the process's arguments and exits
 * with its code. `deno task ship`, the npm package's `kinesis-ship` bin and
 * the `deno compile` binary all start here.
 */
export async function runCli(): Promise<void> {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // An idle stdin read or a kept-alive socket must not hold the process open.
  setTimeout(() => process.exit(code), 0);
}

// Deno (and Node ≥ 24) set import.meta.main; the npm bin imports runCli instead.
if ((import.meta as { main?: boolean }).main) await runCli();
