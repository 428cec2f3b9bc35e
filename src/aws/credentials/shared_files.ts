/**
 * Profiles from the shared files `~/.aws/credentials` and `~/.aws/config`
 * (or `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE`), chosen by
 * `AWS_PROFILE`. A profile gives static keys, or a role to assume from a
 * `source_profile` or a `credential_source`, or a web identity token file.
 * @module
 */
import type { DebugSink } from "../debug.ts";
import type { CredentialProvider, FetchLike } from "../types.ts";
import { fromContainer } from "./container.ts";
import { type EnvReader, envReader, fromEnv } from "./env.ts";
import { CredentialsError, unavailable } from "./errors.ts";
import { fromInstanceMetadata } from "./imds.ts";
import { configProfiles, type IniSections, parseIni } from "./ini.ts";
import { expandHome, fileSystem, homeDir, readOptional } from "./runtime.ts";
import { safeCredentials } from "./safe.ts";
import { fromAssumeRole, fromWebIdentity } from "./sts.ts";

/** Options for {@link fromSharedFiles}. */
export interface SharedFilesOptions {
  /**
   * Profile name.
   * @default {env AWS_PROFILE, else "default"}
   */
  profile?: string;
  /**
   * Path of the credentials file.
   * @default {env AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials}
   */
  credentialsFile?: string;
  /**
   * Path of the config file.
   * @default {env AWS_CONFIG_FILE, else ~/.aws/config}
   */
  configFile?: string;
  /**
   * The `fetch` for STS and metadata calls a profile leads to.
   * @default {globalThis.fetch}
   */
  fetch?: FetchLike;
  /**
   * Region for STS when the profile has none.
   * @default {the profile's region, else env AWS_REGION / AWS_DEFAULT_REGION, else "us-east-1"}
   */
  region?: string;
  /**
   * Log each STS / metadata call, or receive the events.
   * @default {undefined}
   */
  debug?: boolean | DebugSink;
  /**
   * Where `AWS_PROFILE`, the file paths and `HOME` are read from.
   * @default {getEnv}
   */
  env?: EnvReader;
}

const SOURCE = "shared files";

/** The merged profiles of both files, and what was read. */
interface Profiles {
  profiles: IniSections;
  looked: string;
}

/**
 * A provider for one profile of the shared files. The files are read at the
 * first call (and again on `forceRefresh`); a role profile's AssumeRole
 * provider is cached like any other.
 *
 * @example
 * ```ts ignore
 * import { fromSharedFiles } from "@kpl/kinesis-producer/aws";
 * const creds = await fromSharedFiles({ profile: "producer" })();
 * ```
 * @throws {CredentialsError} `CredentialsUnavailable` when there is no file system, no such profile or no credentials in it; `InvalidConfiguration` for a broken role profile (no source, a source loop, unsupported settings).
 */
export function fromSharedFiles(options: SharedFilesOptions = {}): CredentialProvider {
  const env = envReader(options.env);
  let inner: Promise<CredentialProvider> | undefined;
  return async (opts) => {
    if (!inner || opts?.forceRefresh) {
      const building = build();
      inner = building;
      // A failed build is not kept: the next call reads the files again.
      building.catch(() => {
        if (inner === building) inner = undefined;
      });
    }
    return (await inner)(opts);
  };

  async function build(): Promise<CredentialProvider> {
    const files = fileSystem();
    if (!files) throw unavailable(SOURCE, "this runtime has no file system");
    const home = homeDir(env, files.homedir);
    const credentialsPath = expandHome(
      options.credentialsFile ?? env("AWS_SHARED_CREDENTIALS_FILE") ??
        files.join(home, ".aws", "credentials"),
      home,
      files.join,
    );
    const configPath = expandHome(
      options.configFile ?? env("AWS_CONFIG_FILE") ?? files.join(home, ".aws", "config"),
      home,
      files.join,
    );
    const [credentialsText, configText] = await Promise.all([
      readOptional(files.fs, credentialsPath),
      readOptional(files.fs, configPath),
    ]);
    // The credentials file wins over the config file for the same profile, as in the SDKs.
    const fromConfig = configProfiles(parseIni(configText.text ?? ""));
    const fromCredentials = parseIni(credentialsText.text ?? "");
    const profiles: IniSections = Object.create(null);
    for (const name of new Set([...Object.keys(fromConfig), ...Object.keys(fromCredentials)])) {
      profiles[name] = { ...fromConfig[name], ...fromCredentials[name] };
    }
    const looked = credentialsText.missing && configText.missing
      ? `neither ${credentialsPath} nor ${configPath} exists`
      : `looked in ${
        [credentialsText, configText].map((r, i) => r.why ?? [credentialsPath, configPath][i])
          .join("; ")
      }`;
    const profile = options.profile ?? env("AWS_PROFILE") ?? "default";
    return resolve(profile, { profiles, looked }, []);
  }

  function resolve(name: string, all: Profiles, visited: string[]): CredentialProvider {
    const where = `profile "${name}"`;
    const profile = all.profiles[name];
    if (!profile) throw unavailable(SOURCE, `${where} not found (${all.looked})`);
    const invalid = (why: string) =>
      new CredentialsError("InvalidConfiguration", `${SOURCE}: ${where}: ${why}`, {
        source: SOURCE,
      });
    const region = profile.region ?? options.region;
    const common = { fetch: options.fetch, debug: options.debug, env: options.env, region };
    const hasKeys = Boolean(profile.aws_access_key_id && profile.aws_secret_access_key);
    const staticKeys = () => {
      const credentials = safeCredentials({
        accessKeyId: profile.aws_access_key_id,
        secretAccessKey: profile.aws_secret_access_key,
        sessionToken: profile.aws_session_token,
      }, `${SOURCE} ${where}`);
      return () => Promise.resolve(credentials);
    };

    if (profile.role_arn) {
      // A profile that sources itself uses its own keys (SDK rule), so it is no loop.
      if (visited.includes(name)) {
        if (hasKeys) return staticKeys();
        throw invalid(`source_profile loop ${[...visited, name].join(" -> ")}`);
      }
      const duration = profile.duration_seconds ? Number(profile.duration_seconds) : undefined;
      if (profile.web_identity_token_file) {
        const files = fileSystem()!;
        const tokenFile = profile.web_identity_token_file;
        return fromWebIdentity({
          ...common,
          roleArn: profile.role_arn,
          roleSessionName: profile.role_session_name,
          durationSeconds: duration,
          webIdentityToken: () => files.fs.readFile(tokenFile, "utf8"),
        });
      }
      let source: CredentialProvider;
      if (profile.source_profile) {
        source = resolve(profile.source_profile, all, [...visited, name]);
      } else if (profile.credential_source) {
        const kind = profile.credential_source;
        if (kind === "Environment") source = fromEnv({ env: options.env });
        else if (kind === "Ec2InstanceMetadata") {
          source = fromInstanceMetadata({
            fetch: options.fetch,
            debug: options.debug,
            env: options.env,
          });
        } else if (kind === "EcsContainer") {
          source = fromContainer({ fetch: options.fetch, debug: options.debug, env: options.env });
        } else {throw invalid(
            `credential_source ${
              JSON.stringify(kind.slice(0, 40))
            } is not Environment, Ec2InstanceMetadata or EcsContainer`,
          );}
      } else {
        throw invalid(
          "role_arn needs source_profile, credential_source or web_identity_token_file",
        );
      }
      return fromAssumeRole({
        ...common,
        roleArn: profile.role_arn,
        externalId: profile.external_id,
        roleSessionName: profile.role_session_name,
        durationSeconds: duration,
        source,
      });
    }
    if (hasKeys) return staticKeys();
    const unsupported = ["sso_session", "sso_start_url", "credential_process", "login_session"]
      .filter((k) => profile[k]);
    throw unavailable(
      SOURCE,
      unsupported.length > 0
        ? `${where} uses ${unsupported.join(", ")}, which this library does not support`
        : `${where} has no aws_access_key_id/aws_secret_access_key or role_arn (${all.looked})`,
    );
  }
}
