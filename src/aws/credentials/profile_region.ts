/**
 * The region of a profile in the shared config file (`~/.aws/config`, or
 * `AWS_CONFIG_FILE`), chosen by `AWS_PROFILE`: where the AWS SDKs and CLI
 * look after `AWS_REGION` and `AWS_DEFAULT_REGION`.
 * @module
 */
import { type EnvReader, envReader } from "./env.ts";
import { configProfiles, parseIni } from "./ini.ts";
import { expandHome, fileSystem, homeDir, readOptional } from "./runtime.ts";

/** Options for {@link regionFromProfile}. */
export interface ProfileRegionOptions {
  /**
   * Profile name.
   * @default {env AWS_PROFILE, else "default"}
   */
  profile?: string;
  /**
   * Path of the config file.
   * @default {env AWS_CONFIG_FILE, else ~/.aws/config}
   */
  configFile?: string;
  /**
   * Where `AWS_PROFILE`, `AWS_CONFIG_FILE` and `HOME` are read from.
   * @default {getEnv}
   */
  env?: EnvReader;
}

/**
 * Resolves to the profile's `region`, or `undefined` when there is no file
 * system (Workers), no config file, no such profile or no region in it.
 *
 * @example
 * ```ts ignore
 * import { regionFromProfile } from "@kpl/kinesis-producer/aws";
 * const region = process.env.AWS_REGION ?? await regionFromProfile();
 * ```
 */
export async function regionFromProfile(
  options: ProfileRegionOptions = {},
): Promise<string | undefined> {
  const env = envReader(options.env);
  const files = fileSystem();
  if (!files) return undefined;
  const home = homeDir(env, files.homedir);
  const path = expandHome(
    options.configFile ?? env("AWS_CONFIG_FILE") ?? files.join(home, ".aws", "config"),
    home,
    files.join,
  );
  const { text } = await readOptional(files.fs, path);
  if (text === undefined) return undefined;
  const profile = options.profile ?? env("AWS_PROFILE") ?? "default";
  const region = configProfiles(parseIni(text))[profile]?.region?.trim();
  return region ? region : undefined;
}
