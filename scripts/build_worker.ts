/**
 * Bundles examples/worker/worker.ts for Cloudflare Workers with esbuild:
 * one minified ESM file, browser/worker conditions (under the node condition
 * `@smithy/core` imports `node:` modules), and a check that no `node:` import
 * made it in. Prints the size, raw and gzipped.
 *
 * Run with `deno task build:worker`; tests/runtimes/workers_test.ts calls
 * {@linkcode buildWorker} itself (under Deno, and under Node from .build/),
 * so it always runs a fresh bundle.
 * @module
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

/** Options for {@linkcode buildWorker}. */
export interface BuildWorkerOptions {
  /**
   * Output file.
   * @default {"<repo>/examples/worker/dist/worker.js"}
   */
  outfile?: string;
  /**
   * Minify the bundle.
   * @default {true}
   */
  minify?: boolean;
  /**
   * The Worker module to bundle.
   * @default {"<repo>/examples/worker/worker.ts"}
   */
  entry?: string;
}

/** What {@linkcode buildWorker} wrote. */
export interface WorkerBundle {
  /** Absolute path of the bundle (never contains `..`, which miniflare refuses). */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** Size gzipped (CompressionStream, default level): roughly what Workers count against the limit. */
  gzipBytes: number;
}

// node: APIs rather than Deno's, so the Workers test can also run under Node,
// compiled into .build/: hence the walk up to deno.json for the repository root.
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "deno.json"))) {
    if (dirname(dir) === dir) throw new Error("Cannot find the repository root: no deno.json");
    dir = dirname(dir);
  }
  return dir;
}

const root = repoRoot();

// Static or dynamic `node:` imports in any of the forms esbuild can emit.
const NODE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s*)["']node:/;

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Bundles the example Worker (or `entry`) and checks it; throws if a `node:` import got in. */
export async function buildWorker(options: BuildWorkerOptions = {}): Promise<WorkerBundle> {
  const {
    outfile = `${root}/examples/worker/dist/worker.js`,
    minify = true,
    entry = `${root}/examples/worker/worker.ts`,
  } = options;
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile,
      bundle: true,
      format: "esm",
      platform: "browser",
      conditions: ["workerd", "worker", "browser"],
      target: "es2022",
      minify,
      metafile: true,
      logLevel: "warning",
    });
    const output = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint)?.[1];
    const external = output?.imports.filter((i) => i.external).map((i) => i.path) ?? [];
    if (external.length > 0) {
      throw new Error(
        `The Worker bundle imports modules it does not contain: ${external.join(", ")}`,
      );
    }
    const bytes = new Uint8Array(await readFile(outfile));
    const text = new TextDecoder().decode(bytes);
    const found = text.match(NODE_IMPORT);
    if (found) {
      const at = found.index ?? 0;
      throw new Error(`The Worker bundle has a node: import: …${text.slice(at, at + 80)}…`);
    }
    return { path: outfile, bytes: bytes.byteLength, gzipBytes: await gzipSize(bytes) };
  } finally {
    await esbuild.stop();
  }
}

// import.meta.main: Deno (and Bun); undefined under Node, where this is only imported.
if ((import.meta as { main?: boolean }).main) {
  const bundle = await buildWorker();
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `${bundle.path.slice(root.length + 1)}: ${bundle.bytes} bytes (${kib(bundle.bytes)}), ` +
      `${bundle.gzipBytes} bytes gzipped (${kib(bundle.gzipBytes)}); no node: imports`,
  );
}
