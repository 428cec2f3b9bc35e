/**
 * The INI dialect of `~/.aws/credentials` and `~/.aws/config`.
 * @module
 */

/** Sections by name, each a map of keys to values. */
export type IniSections = Record<string, Record<string, string>>;

/**
 * Parses INI text: `[section]` headers, `key = value` lines, full-line and
 * whitespace-preceded `#` / `;` comments. Indented lines under a key with an
 * empty value (nested settings such as `s3 =`) are skipped. Keys before any
 * section are ignored. Later duplicates win.
 *
 * @example
 * ```ts
 * import { parseIni } from "./ini.ts";
 * const ini = parseIni("[default]\naws_access_key_id = AKID ; comment\n");
 * console.log(ini.default.aws_access_key_id); // AKID
 * ```
 */
export function parseIni(text: string): IniSections {
  const sections: IniSections = Object.create(null);
  let current: Record<string, string> | undefined;
  let nested = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.split(/(?:^|\s)[#;]/)[0];
    if (line.trim() === "") continue;
    const indented = /^\s/.test(line);
    if (nested && indented) continue;
    nested = false;
    const header = /^\s*\[([^\]]*)\]\s*$/.exec(line);
    if (header) {
      const name = header[1].trim();
      current = sections[name] ??= Object.create(null) as Record<string, string>;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0 || !current) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (value === "") {
      nested = true;
      continue;
    }
    current[key] = value;
  }
  return sections;
}

/**
 * Profiles from a config file: `[profile name]` sections, and `[default]`
 * (also spelled `[profile default]`). Other sections (`[sso-session x]`,
 * `[services x]`) are not profiles and are dropped.
 */
export function configProfiles(sections: IniSections): IniSections {
  const out: IniSections = Object.create(null);
  for (const [name, values] of Object.entries(sections)) {
    const match = /^profile\s+(.+)$/.exec(name);
    const profile = match ? match[1].trim() : name === "default" ? "default" : undefined;
    if (profile !== undefined) out[profile] = { ...out[profile], ...values };
  }
  return out;
}
