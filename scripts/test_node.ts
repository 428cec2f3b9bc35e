/**
 * Runs the runtime-neutral tests under Node against the built npm package
 * (`npm/`, from `deno task build:npm`), not against the source.
 *
 * Run with `deno task test:node`. It stages the test files in
 * `.build/node-tests/` with their imports rewritten, compiles them with tsc
 * (type-checking them against the package's `.d.ts` files), then runs
 * `node --test` on the result.
 *
 * - `mod.ts` becomes `"@kpl/kinesis-producer"` (`format.ts` and `aws.ts` its
 *   `/format` and `/aws` subpaths), resolved through a link to `npm/`, so the
 *   package's `exports` map is what Node loads.
 * - Deep imports of `src/**` become the built `npm/esm/src/**.js` files.
 * - Test helpers (`tests/**`) and test-only infrastructure outside the package
 *   (`src/cli/kinesis_mock.ts`, `scripts/build_worker.ts`) are compiled from source.
 *
 * Which tests: every `*_test.ts` under {@linkcode TEST_DIRS}. They use only
 * `node:test`, `node:assert/strict`, `node:` built-ins and npm packages.
 * The LocalStack harness and integration suite run here too, because
 * testcontainers (the Docker path) needs Node; `tests/cli/` (the Deno CLI) stays
 * Deno-only.
 *
 * Extra arguments are passed to `node --test` (for example `--test-name-pattern`).
 * @module
 */
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Directories whose `*_test.ts` files run under Node. */
const TEST_DIRS = [
  "tests/format",
  "tests/consumer",
  "tests/producer",
  "tests/aws",
  "tests/runtimes",
  "tests/harness",
  "tests/integration",
];
/** Test files that are not runtime-neutral, with the reason. */
const SKIP: Record<string, string> = {
  "tests/harness/docker_engine_test.ts": "tests a shell script; Deno runs it, once is enough",
};

const PACKAGE = "@kpl/kinesis-producer";
/** The package's entry files and the specifiers that reach them through its `exports`. */
const ENTRY_POINTS: Record<string, string> = {
  "mod.ts": PACKAGE,
  "format.ts": `${PACKAGE}/format`,
  "aws.ts": `${PACKAGE}/aws`,
  "node.ts": `${PACKAGE}/node`,
  "testing.ts": `${PACKAGE}/testing`,
};
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const stage = join(root, ".build", "node-tests");
const built = join(root, "npm", "esm");

const IMPORT = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]+)\2/g;

async function listTests(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(join(root, dir))) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await listTests(rel));
    else if (entry.name.endsWith("_test.ts") && !(rel in SKIP)) out.push(rel);
  }
  return out.sort();
}

/** Where an import of `target` (absolute source path) points from the staged `from`. */
function rewrite(target: string, fromStaged: string, queue: string[]): string {
  const rel = relative(root, target);
  if (rel in ENTRY_POINTS) return ENTRY_POINTS[rel];
  if (rel.startsWith("src/") && !rel.startsWith("src/cli/")) {
    const js = join(built, rel.replace(/\.ts$/, ".js"));
    if (!existsSync(js)) {
      throw new Error(`${rel} is imported by a test but is not in the npm build (${js})`);
    }
    let spec = relative(dirname(fromStaged), js);
    if (!spec.startsWith(".")) spec = `./${spec}`;
    return spec;
  }
  queue.push(rel); // compiled from source, beside the tests
  let spec = relative(dirname(fromStaged), join(stage, rel));
  if (!spec.startsWith(".")) spec = `./${spec}`;
  return spec;
}

async function stageFiles(tests: string[]): Promise<void> {
  const queue = [...tests];
  const done = new Set<string>();
  while (queue.length > 0) {
    const rel = queue.pop()!;
    if (done.has(rel)) continue;
    done.add(rel);
    const source = join(root, rel);
    const staged = join(stage, rel);
    const text = await Deno.readTextFile(source);
    const out = text.replace(IMPORT, (_m, head: string, q: string, spec: string) => {
      const target = resolve(dirname(source), spec);
      return `${head}${q}${rewrite(target, staged, queue)}${q}`;
    });
    await Deno.mkdir(dirname(staged), { recursive: true });
    await Deno.writeTextFile(staged, out);
  }
}

async function run(cmd: string, args: string[]): Promise<number> {
  const { code } = await new Deno.Command(cmd, { args, cwd: root }).spawn().status;
  return code;
}

if (!existsSync(join(built, "mod.js"))) {
  console.error("npm/ is not built: run `deno task build:npm` first");
  Deno.exit(1);
}
await Deno.remove(stage, { recursive: true }).catch(() => {});
const tests = (await Promise.all(TEST_DIRS.map(listTests))).flat();
await stageFiles(tests);
await Deno.mkdir(join(stage, "node_modules", "@kpl"), { recursive: true });
await Deno.symlink(join(root, "npm"), join(stage, "node_modules", PACKAGE), { type: "dir" });

const tsconfig = {
  include: ["**/*.ts"],
  exclude: ["node_modules"],
  compilerOptions: {
    module: "nodenext",
    moduleResolution: "nodenext",
    target: "ES2022",
    lib: ["ES2022", "ES2024.String", "ESNext.Disposable", "DOM", "DOM.Iterable"],
    types: ["node"],
    strict: true,
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    skipLibCheck: true,
    newLine: "lf",
  },
};
// Deno type-checks the untyped reference package as `any`; tell tsc the same.
await Deno.writeTextFile(join(stage, "untyped.d.ts"), 'declare module "aws4";\n');
await Deno.writeTextFile(join(stage, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
const tsc = await run(join(root, "node_modules", ".bin", "tsc"), [
  "-p",
  join(stage, "tsconfig.json"),
]);
if (tsc !== 0) {
  console.error(`tsc failed on the staged tests (${stage})`);
  Deno.exit(tsc);
}

for (const [file, why] of Object.entries(SKIP)) console.log(`not under Node: ${file}: ${why}`);
console.log(`node --test: ${tests.length} files from ${TEST_DIRS.join(", ")}, against npm/`);
const code = await run("node", [
  "--test",
  "--test-reporter=spec",
  ...Deno.args,
  ...tests.map((t) => join(stage, t.replace(/\.ts$/, ".js"))),
]);
Deno.exit(code);
