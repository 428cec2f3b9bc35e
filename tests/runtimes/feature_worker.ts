/**
 * A Worker for tests/runtimes/workers_test.ts: the application-facing features
 * in workerd. `POST /produce` pipes an NDJSON body into `producer.writable`
 * (gzip per record) next to one `deliver()`, and answers with the delivery
 * result, the stats and an EMF line. `POST /consume` takes GetRecords-shaped
 * records (JSON) and returns them through `DeaggregationStream` with
 * `decompress: "gzip"`.
 */
import {
  DeaggregationStream,
  type GetRecordsRecord,
  KinesisError,
  KinesisProducer,
  toEmf,
} from "../../mod.ts";
import { fromStatic } from "../../aws.ts";

interface Env {
  STREAM_NAME: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  KINESIS_ENDPOINT: string;
}

/** Splits text into lines, dropping empty ones. */
function lines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) if (line) controller.enqueue(line);
    },
    flush(controller) {
      if (rest) controller.enqueue(rest);
    },
  });
}

function streamOf<T>(items: readonly T[]): ReadableStream<T> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < items.length) controller.enqueue(items[i++]);
      else controller.close();
    },
  });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/produce") {
      const failures: string[] = [];
      const producer = new KinesisProducer({
        streamName: env.STREAM_NAME,
        region: env.AWS_REGION,
        endpoint: env.KINESIS_ENDPOINT,
        credentials: fromStatic({
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        }),
        compression: "gzip",
        lingerMs: 0,
        onFailure: (f) => failures.push(f.error.message),
      });
      const first = producer.deliver("delivered first");
      await request.body!.pipeThrough(new TextDecoderStream()).pipeThrough(lines()).pipeTo(
        producer.writable,
      );
      const delivery = await first;
      const s = producer.stats;
      return Response.json({
        delivery,
        failures,
        recordsDelivered: s.recordsDelivered,
        compressionBytesIn: s.compressionBytesIn,
        compressionBytesOut: s.compressionBytesOut,
        emf: toEmf(s, { dimensions: { StreamName: env.STREAM_NAME } }),
        disposable: typeof producer[Symbol.asyncDispose] === "function",
      });
    }
    if (url.pathname === "/consume") {
      const records = await request.json() as GetRecordsRecord[];
      const out: unknown[] = [];
      await streamOf(records).pipeThrough(new DeaggregationStream({ decompress: "gzip" })).pipeTo(
        new WritableStream({
          write(r) {
            out.push({
              text: new TextDecoder().decode(r.data),
              sequenceNumber: r.sequenceNumber,
              subSequenceNumber: r.subSequenceNumber,
              error: r.error?.name,
            });
          },
        }),
      );
      return Response.json(out);
    }
    if (url.pathname === "/error") {
      const e = new KinesisError({
        code: "ResourceNotFoundException",
        message: "x",
        status: 400,
        requestId: "r-1",
      });
      return Response.json({ name: e.name, metadata: e.$metadata });
    }
    return new Response("not found", { status: 404 });
  },
};
