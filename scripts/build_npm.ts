/**
 * Builds the npm package into `npm/`: ESM plus `.d.ts` compiled by the
 * TypeScript compiler from npm, a `package.json` with `exports`, the README and
 * the LICENSE.
 *
 * Run with `deno task build:npm`.
 *
 * This stands in for dnt (`@deno/dnt`), which is published only on JSR, and JSR
 * cannot be reached from these machines. The options below are dnt's own
 * `BuildOptions` fields (`entryPoints`, `outDir`, `package`, `compilerOptions`,
 * `postBuild`) with dnt's output layout (`npm/esm/…`), so when JSR is reachable
 * the local `build()` can be swapped for dnt's `build()` with
 * `scriptModule: false, test: false, shims: {}`: the tests under Node run
 * separately (`deno task test:node`).
 * @module
 */

/** The subset of dnt's `BuildOptions` this project uses. */
interface BuildOptions {
  /** Entry modules; only what they import is compiled. */
  entryPoints: string[];
  /** Entry modules compiled in a second pass with Node's types (`node:` imports allowed). */
  nodeEntryPoints?: string[];
  /** Output directory, emptied first. */
  outDir: string;
  /** Contents of the output `package.json`. */
  package: Record<string, unknown>;
  /** TypeScript compiler settings (dnt names: `target`, `lib`). */
  compilerOptions: { target: string; lib: string[] };
  /** Runs after compiling: copy extra files. */
  postBuild?: () => Promise<void> | void;
}

const root = new URL("../", import.meta.url);
const rootPath = decodeURIComponent(root.pathname).replace(/\/$/, "");

function readJson(name: string): Record<string, any> {
  return JSON.parse(Deno.readTextFileSync(`${rootPath}/${name}`));
}

async function run(cmd: string, args: string[]): Promise<void> {
  const { code } = await new Deno.Command(cmd, { args, cwd: rootPath }).spawn().status;
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${code}`);
}

const RELATIVE_TS = /(["'])(\.{1,2}\/[^"'\n]*?)\.ts\1/g;

async function rewriteDeclarationSpecifiers(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) await rewriteDeclarationSpecifiers(path);
    else if (entry.name.endsWith(".d.ts")) {
      const text = await Deno.readTextFile(path);
      await Deno.writeTextFile(path, text.replace(RELATIVE_TS, "$1$2.js$1"));
    }
  }
}

async function build(options: BuildOptions): Promise<void> {
  const out = `${rootPath}/${options.outDir}`;
  await Deno.remove(out, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  // A generated tsconfig in .build/ (git-ignored), so the compile depends only
  // on these settings. rootDir ".." keeps dnt's layout: mod.ts → esm/mod.js,
  // src/x.ts → esm/src/x.js.
  const tsconfig = {
    files: options.entryPoints.map((p) => `../${p}`),
    compilerOptions: {
      rootDir: "..",
      outDir: `../${options.outDir}/esm`,
      module: "nodenext",
      moduleResolution: "nodenext",
      target: options.compilerOptions.target,
      lib: options.compilerOptions.lib,
      // No ambient @types: the library must compile on web-platform types alone.
      types: [],
      strict: true,
      declaration: true,
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      skipLibCheck: true,
      verbatimModuleSyntax: true,
      newLine: "lf",
    },
  };
  await Deno.mkdir(`${rootPath}/.build`, { recursive: true });
  const config = `${rootPath}/.build/tsconfig.npm.json`;
  await Deno.writeTextFile(config, JSON.stringify(tsconfig, null, 2));
  await run(`${rootPath}/node_modules/.bin/tsc`, ["-p", config]);
  if (options.nodeEntryPoints?.length) {
    // The Node adapters only: the same settings plus Node's types. The core
    // stays checked on web-platform types alone by the pass above.
    const nodeConfig = `${rootPath}/.build/tsconfig.npm-node.json`;
    const nodeTsconfig = {
      files: options.nodeEntryPoints.map((p) => `../${p}`),
      compilerOptions: { ...tsconfig.compilerOptions, types: ["node"] },
    };
    await Deno.writeTextFile(nodeConfig, JSON.stringify(nodeTsconfig, null, 2));
    await run(`${rootPath}/node_modules/.bin/tsc`, ["-p", nodeConfig]);
  }
  // tsc rewrites ".ts" to ".js" in the JavaScript it emits, not in the .d.ts
  // files (TypeScript 5.9); consumers without allowImportingTsExtensions need ".js".
  await rewriteDeclarationSpecifiers(`${out}/esm`);
  await Deno.writeTextFile(`${out}/package.json`, JSON.stringify(options.package, null, 2) + "\n");
  await options.postBuild?.();
}

const pkg = readJson("package.json");
const deno = readJson("deno.json");

// A fresh clone has no node_modules: install them (tsc among them) first.
await run("sh", [`${rootPath}/scripts/ensure_deps.sh`]);

await build({
  // Only what the entry points (the package's exports) reach is compiled.
  entryPoints: ["mod.ts", "format.ts", "aws.ts"],
  // node.ts (Node adapters), testing.ts (kinesis-mock) and the CLI, as the package's
  // `kinesis-ship` bin: they import node: modules, so they are compiled with Node's
  // types, apart from the core.
  nodeEntryPoints: ["node.ts", "testing.ts", "src/cli/bin.ts"],
  outDir: "npm",
  // ES2024.String: String#isWellFormed (Node ≥ 20); ESNext.Disposable: Symbol.asyncDispose
  // (Node ≥ 20.4); DOM.Iterable: URLSearchParams iteration.
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022", "ES2024.String", "ESNext.Disposable", "DOM", "DOM.Iterable"],
  },
  package: {
    name: pkg.name,
    version: deno.version,
    description: pkg.description,
    license: deno.license ?? pkg.license,
    type: "module",
    main: "./esm/mod.js",
    types: "./esm/mod.d.ts",
    // The same subpaths as deno.json's exports.
    exports: Object.fromEntries(
      Object.entries(deno.exports as Record<string, string>).map(([subpath, file]) => {
        const base = file.replace(/^\.\//, "./esm/").replace(/\.ts$/, "");
        // "default" serves require() too: Node ≥ 20.19 loads ES modules with require().
        return [subpath, { types: `${base}.d.ts`, import: `${base}.js`, default: `${base}.js` }];
      }),
    ),
    files: ["esm/"],
    bin: { "kinesis-ship": "./esm/src/cli/bin.js" },
    sideEffects: false,
    engines: pkg.engines ?? { node: ">=20" },
    dependencies: pkg.dependencies,
    // kinesis-mock, for `kinesis-ship --local` and the /testing entry point (16 MB);
    // `npm install --omit=optional` leaves it out.
    optionalDependencies: { "kinesis-local": pkg.devDependencies["kinesis-local"] },
    // proxyFetch() in Node loads undici on demand; nothing else needs it.
    peerDependencies: { undici: ">=6" },
    peerDependenciesMeta: { undici: { optional: true } },
    keywords: ["kinesis", "kpl", "aggregation", "aws", "deno", "bun", "cloudflare-workers"],
  },
  postBuild() {
    for (const name of ["README.md", "LICENSE"]) {
      try {
        Deno.copyFileSync(`${rootPath}/${name}`, `${rootPath}/npm/${name}`);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        console.warn(`warning: ${name} is missing; the package ships without it`);
      }
    }
  },
});

// `npm pack --dry-run` must list only the package: package.json, README,
// LICENSE and the compiled esm/ (.js and .d.ts).
const pack = await new Deno.Command("npm", {
  args: ["pack", "--dry-run", "--json"],
  cwd: `${rootPath}/npm`,
  stderr: "inherit",
}).output();
if (!pack.success) throw new Error("npm pack --dry-run failed");
const [packed] = JSON.parse(new TextDecoder().decode(pack.stdout)) as {
  files: { path: string }[];
  size: number;
  unpackedSize: number;
}[];
const unexpected = packed.files
  .map((f) => f.path)
  .filter((p) => !/^(package\.json|README\.md|LICENSE|esm\/.+\.(js|d\.ts))$/.test(p));
if (unexpected.length > 0) throw new Error(`npm pack would ship unexpected files: ${unexpected}`);
console.log(
  `npm/: ${pkg.name}@${deno.version}, ${packed.files.length} files, ` +
    `${packed.size} bytes packed, ${packed.unpackedSize} unpacked`,
);
