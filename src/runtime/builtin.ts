/**
 * Reaches a runtime's built-in modules (`node:crypto`, `node:fs`, …) without a static
 * import, so bundles for Workers and browsers never pull them in.
 *
 * Deno 2, Bun and Node ≥ 20.16 all expose `process.getBuiltinModule`; elsewhere this
 * returns `undefined` and callers fall back to web-platform code.
 * @module
 */

type BuiltinLoader = (id: string) => unknown;

const loader: BuiltinLoader | undefined = (globalThis as {
  process?: { getBuiltinModule?: BuiltinLoader };
}).process?.getBuiltinModule;

/** Returns the built-in module `id` (for example `"node:crypto"`), or `undefined` where there is none. */
export function builtin<T>(id: string): T | undefined {
  if (!loader) return undefined;
  try {
    return loader(id) as T | undefined;
  } catch {
    return undefined;
  }
}
