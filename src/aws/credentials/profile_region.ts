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

/** Where {@link profileRegionLookup} looked, and what it found. */
export interface ProfileRegionLookup {
  /** The profile's `region`, trimmed; `undefined` when none was found. */
  region?: string;
  /** The profile name looked up. */
  profile: string;
  /** The config file path read; `undefined` where there is no file system (Workers). */
  configFile?: string;
  /** Why there is no region, for error messages: `"… does not exist"`, `"no region in it"`. */
  why?: string;
}

/**
 * Like {@link regionFromProfile}, but also says which profile and file were
 * tried and why nothing was found, so a missing-region error can name them.
 */
export async function profileRegionLookup(
  options: ProfileRegionOptions = {},
): Promise<ProfileRegionLookup> {
  const env = envReader(options.env);
  const profile = options.profile ?? env("AWS_PROFILE") ?? "default";
  const files = fileSystem();
  if (!files) return { profile, why: "no file system in this runtime" };
  const home = homeDir(env, files.homedir);
  const configFile = expandHome(
    options.configFile ?? env("AWS_CONFIG_FILE") ?? files.join(home, ".aws", "config"),
    home,
    files.join,
  );
  const { text, why } = await readOptional(files.fs, configFile);
  if (text === undefined) return { profile, configFile, why };
  const section = configProfiles(parseIni(text))[profile];
  const region = section?.region?.trim();
  if (region) return { region, profile, configFile };
  return { profile, configFile, why: section ? "no region in that profile" : "no such profile" };
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
  return (await profileRegionLookup(options)).region;
}
