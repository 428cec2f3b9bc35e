/**
 * Builds the producer's transport from its options: credentials (default chain,
 * then AssumeRole when a role is given), proxy, and the Kinesis client. STS and
 * Kinesis share one `fetch`, so the proxy applies to both.
 * @module
 */
import { defaultCredentials } from "../aws/credentials/chain.ts";
import { fromAssumeRole } from "../aws/credentials/sts.ts";
import { KinesisClient } from "../aws/kinesis_client.ts";
import type { FetchLike } from "../aws/types.ts";
import { type DebugEvent, formatDebugEvent } from "../aws/debug.ts";
import { type ProxiedFetch, proxyFetch } from "../runtime/proxy.ts";
import type { KinesisProducerOptions, PutRecordClient } from "./options.ts";

/** A transport and how to release it. */
export interface Transport {
  /** Sends PutRecords. */
  client: PutRecordClient;
  /** Releases proxy connections, if any. */
  close(): Promise<void>;
}

/** Creates the transport now; only the proxy (an async import in Node) resolves on first use. */
export function createTransport(input: KinesisProducerOptions): Transport {
  // debug: true speaks through the logger when there is one.
  const { logger } = input;
  const options = input.debug === true && logger
    ? { ...input, debug: (e: DebugEvent) => logger.debug(formatDebugEvent(e)) }
    : input;
  if (options.client) return { client: options.client, close: () => Promise.resolve() };
  let proxied: Promise<ProxiedFetch> | undefined;
  let fetch: FetchLike | undefined = options.fetch;
  if (!fetch && options.httpProxy) {
    const pending = proxied = proxyFetch(options.httpProxy);
    pending.catch(() => {}); // surfaced on first use, as a failed call
    fetch = async (input, init) => (await pending)(input, init);
  }
  const base = options.credentials ??
    defaultCredentials({ fetch, region: options.region, debug: options.debug });
  const credentials = options.roleArn
    ? fromAssumeRole({
      roleArn: options.roleArn,
      externalId: options.externalId,
      roleSessionName: options.roleSessionName,
      region: options.region,
      stsEndpoint: options.stsEndpoint,
      source: typeof base === "function" ? base : () => Promise.resolve(base),
      fetch,
      debug: options.debug,
    })
    : base;
  const client = new KinesisClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials,
    protocol: options.protocol,
    fetch,
    timeoutMs: options.timeoutMs,
    debug: options.debug,
  });
  return {
    client,
    close: async () => {
      if (proxied) await (await proxied.catch(() => undefined))?.close();
    },
  };
}
