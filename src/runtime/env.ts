/**
 * Environment variables, wherever the runtime has them.
 *
 * Workers have no process environment: there this returns `undefined` and the
 * caller passes values explicitly (bindings, secrets).
 * @module
 */

type EnvSource = Record<string, string | undefined>;

function source(): EnvSource | undefined {
  const g = globalThis as {
    process?: { env?: EnvSource };
    Deno?: { env: { get(name: string): string | undefined } };
  };
  if (g.Deno) {
    // Deno.env throws without --allow-env; treat that as "not set".
    const denoEnv = g.Deno.env;
    return new Proxy({}, {
      get: (_t, name) => {
        try {
          return typeof name === "string" ? denoEnv.get(name) : undefined;
        } catch {
          return undefined;
        }
      },
    });
  }
  return g.process?.env;
}

/** Reads environment variable `name`; empty strings count as unset. */
export function getEnv(name: string): string | undefined {
  const value = source()?.[name];
  return value === "" ? undefined : value;
}
