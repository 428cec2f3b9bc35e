/**
 * The few runtime built-ins the file and metadata providers need, reached via
 * `builtin()` at call time so nothing here pulls `node:` modules into a
 * Workers bundle. Minimal local types keep even type imports of `node:` out.
 * @module
 */
import { builtin } from "../../runtime/builtin.ts";
import type { EnvReader } from "./env.ts";

/** The part of `node:fs/promises` used here. */
export interface FsPromises {
  /** Reads a whole file as text. */
  readFile(path: string, encoding: "utf8"): Promise<string>;
}

/** The part of `node:os` used here. */
interface Os {
  homedir(): string;
}

/** The part of `node:path` used here. */
interface Path {
  join(...parts: string[]): string;
}

/** The file system and path helpers, or `undefined` where the runtime has none (Workers). */
export function fileSystem(): {
  fs: FsPromises;
  join: (...parts: string[]) => string;
  homedir: () => string;
} | undefined {
  const fs = builtin<FsPromises>("node:fs/promises");
  const os = builtin<Os>("node:os");
  const path = builtin<Path>("node:path");
  if (!fs?.readFile || !os?.homedir || !path?.join) return undefined;
  return { fs, join: (...parts) => path.join(...parts), homedir: () => os.homedir() };
}

/** True where the runtime is a server process (it has `node:` built-ins), so a metadata endpoint may exist. */
export function hasProcessRuntime(): boolean {
  return builtin<Os>("node:os") !== undefined;
}

/** The home directory: `HOME`, `USERPROFILE`, `HOMEDRIVE`+`HOMEPATH`, else the OS's answer. */
export function homeDir(env: EnvReader, homedir: () => string): string {
  const drive = env("HOMEDRIVE");
  const homePath = env("HOMEPATH");
  return env("HOME") ?? env("USERPROFILE") ?? (drive && homePath ? drive + homePath : undefined) ??
    homedir();
}

/** Expands a leading `~/` (or `~\`) to `home`, as the AWS CLI does for file path variables. */
export function expandHome(
  path: string,
  home: string,
  join: (...parts: string[]) => string,
): string {
  return path === "~" ? home : /^~[\\/]/.test(path) ? join(home, path.slice(2)) : path;
}

/** Reads `path` as UTF-8, or returns no text and why it cannot (missing, unreadable). */
export async function readOptional(
  fs: FsPromises,
  path: string,
): Promise<{ text?: string; why?: string; missing?: boolean }> {
  try {
    return { text: await fs.readFile(path, "utf8") };
  } catch (error) {
    const code = (error as { code?: string })?.code;
    return {
      missing: code === "ENOENT",
      why: code === "ENOENT"
        ? `${path} does not exist`
        : `cannot read ${path} (${code ?? (error as Error)?.name})`,
    };
  }
}
