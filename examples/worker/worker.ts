/**
 * Cloudflare Worker: POST an NDJSON body and every non-empty line ships as one
 * user record, packed into KPL aggregates (one PutRecord per aggregate).
 *
 * Bindings: `STREAM_NAME` and `AWS_REGION` as vars; `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) as secrets; `KINESIS_ENDPOINT`
 * only to point at an emulator. Workers have no process environment, so
 * everything is passed explicitly.
 *
 * By default the response waits for delivery and reports it (200, or 502 if
 * any record failed). With `Prefer: respond-async` it answers 202 at once and
 * delivers in `ctx.waitUntil`; failures then only reach the logs.
 *
 * Bundle: `deno task build:worker` (esbuild, browser conditions, no `node:`).
 */
import { KinesisProducer, RecordError } from "../../mod.ts";
import { fromStatic } from "../../aws.ts";

/** The Worker's bindings. */
export interface Env {
  STREAM_NAME: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_SESSION_TOKEN?: string;
  KINESIS_ENDPOINT?: string;
}

/** The part of the Workers `ExecutionContext` this Worker uses. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    if (request.method !== "POST") {
      return new Response("POST an NDJSON body\n", { status: 405, headers: { allow: "POST" } });
    }
    const lines = (await request.text()).split("\n").filter((line) => line.trim() !== "");
    let failed = 0;
    const producer = new KinesisProducer({
      streamName: env.STREAM_NAME,
      region: env.AWS_REGION,
      endpoint: env.KINESIS_ENDPOINT || undefined,
      credentials: fromStatic({
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        sessionToken: env.AWS_SESSION_TOKEN,
      }),
      lingerMs: 0, // the whole body is here: cut chunks as soon as they fill
      onFailure: (f) => {
        failed += f.records.length;
        console.error(`Kinesis: ${f.records.length} records failed: ${f.error.message}`);
      },
    });
    const rejected: { line: number; error: string }[] = [];
    for (let i = 0; i < lines.length; i++) {
      try {
        await producer.put(lines[i]);
      } catch (error) {
        if (!(error instanceof RecordError)) throw error;
        rejected.push({ line: i + 1, error: error.message });
      }
    }
    // Stay inside the 30 s that waitUntil grants after the response.
    const delivered = producer.close({ deadlineMs: 25_000 });
    if (request.headers.get("prefer") === "respond-async") {
      ctx.waitUntil(delivered);
      return Response.json({ accepted: lines.length - rejected.length, rejected }, {
        status: 202,
      });
    }
    await delivered;
    const { recordsDelivered, chunks } = producer.stats;
    return Response.json(
      { delivered: recordsDelivered, putRecordCalls: chunks, failed, rejected },
      { status: failed > 0 ? 502 : 200 },
    );
  },
};
