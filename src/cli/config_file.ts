/**
 * `--config FILE`: the seed plugin's options, one `name = value` per line, as
 * a Fluentd user would write them by hand (INI, parsed by the `ini` package):
 *
 * ```ini
 * # ship.conf
 * stream_name = logs
 * region = eu-west-1
 * buffer_chunk_limit = 300k
 * num_threads = 4
 * debug = true
 * ```
 *
 * `#` and `;` start comments. Values are the flags' values; flags given on
 * the command line win over the file.
 * @module
 */
import { readFileSync } from "node:fs";
import { parse } from "ini";
import { UsageError } from "./errors.ts";

/** One `name = value` line of a config file. */
export interface ConfigEntry {
  /** The option name as written (`stream_name`). */
  name: string;
  /** The value: text, `true`/`false` for a switch, a list for `name[] = …` lines. */
  value: string | boolean | string[];
}

/**
 * Reads `path` (relative to the current directory) into its entries.
 * Throws a {@link UsageError} when the file cannot be read or a line is not
 * `name = value`; the message names the file and the line, never a value.
 */
export function readConfigFile(path: string): ConfigEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "ENOENT"
      ? "no such file"
      : code === "EISDIR"
      ? "it is a directory"
      : code === "EACCES"
      ? "permission denied"
      : (error as Error).message;
    throw new UsageError(`Cannot read --config ${path}: ${why}`, { cause: error });
  }
  return parseConfig(text, path);
}

/**
 * Parses config text. `where` names the file in errors.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config_file.ts";
 * parseConfig("stream_name = logs\ndebug = true\n", "ship.conf");
 * // [{ name: "stream_name", value: "logs" }, { name: "debug", value: true }]
 * ```
 */
export function parseConfig(text: string, where: string): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  for (const [name, value] of Object.entries(parse(text))) {
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
      entries.push({ name: name.trim(), value });
      continue;
    }
    if (typeof value === "object" && value !== null) {
      throw new UsageError(
        `Cannot read --config ${where}: [${name}] sections are not used; ` +
          "put every option at the top level",
      );
    }
    // A Fluentd line `num_threads 50` arrives as the key "num_threads 50".
    const fluentd = /^([A-Za-z_-]+)\s+\S/.exec(name);
    if (fluentd && value === true) {
      throw new UsageError(
        `Cannot read --config ${where}: write "${fluentd[1]} = <value>" ` +
          `(with "="), not "${fluentd[1]} <value>"`,
      );
    }
    if (typeof value !== "string" && typeof value !== "boolean") {
      throw new UsageError(`Cannot read --config ${where}: give ${name} one value`);
    }
    entries.push({ name: name.trim(), value });
  }
  return entries;
}
