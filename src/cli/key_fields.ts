/**
 * Calculated keys for `ship`: a line's partition key (and explicit hash key)
 * read from a JSON field at a dotted path, as `--partition-key-field` and
 * `--explicit-hash-key-field` ask.
 * @module
 */

const decoder = new TextDecoder();

/** The keys of one line, and whether the fields were found. */
export interface LineKeys {
  /** The partition key: the field's value, or a random UUID when missing. */
  partitionKey: string;
  /** The explicit hash key, when asked for and found. */
  explicitHashKey?: string;
  /**
   * The line is not JSON, or a field asked for is missing, not a string or number, or a number
   * beyond 2^53 (JSON.parse has already rounded it).
   */
  missing: boolean;
}

/** Splits a dotted path (`user.id`) into its steps; throws `RangeError` for an empty step. */
export function parseFieldPath(path: string): string[] {
  const steps = path.split(".");
  if (steps.some((s) => s === "")) {
    throw new RangeError(
      `Cannot use field path ${
        JSON.stringify(path)
      }: expected names separated by dots, like user.id`,
    );
  }
  return steps;
}

function pick(value: unknown, steps: readonly string[]): string | undefined {
  let at = value;
  for (const step of steps) {
    if (at === null || typeof at !== "object" || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[step];
  }
  if (typeof at === "string") return at;
  // Past 2^53 a JSON number has already lost digits in JSON.parse: a key made from it would
  // not be the one written, so such a field counts as missing (quote big keys as strings).
  if (typeof at === "number" && Math.abs(at) <= Number.MAX_SAFE_INTEGER) return String(at);
  return undefined;
}

/**
 * Reads the keys of `line` from the fields at `partitionKeyPath` and
 * `explicitHashKeyPath` (either may be absent). Never throws: a line that is
 * not JSON, or lacks a field, gets a random partition key and `missing: true`.
 */
export function lineKeys(
  line: Uint8Array,
  partitionKeyPath: readonly string[] | undefined,
  explicitHashKeyPath: readonly string[] | undefined,
): LineKeys {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(line));
  } catch {
    return { partitionKey: crypto.randomUUID(), missing: true };
  }
  let missing = false;
  let partitionKey: string | undefined;
  if (partitionKeyPath) {
    partitionKey = pick(parsed, partitionKeyPath);
    // An empty key is not a key Kinesis takes: treat it as missing.
    if (partitionKey === undefined || partitionKey === "") {
      missing = true;
      partitionKey = undefined;
    }
  }
  let explicitHashKey: string | undefined;
  if (explicitHashKeyPath) {
    explicitHashKey = pick(parsed, explicitHashKeyPath);
    if (explicitHashKey === undefined) missing = true;
  }
  return {
    partitionKey: partitionKey ?? crypto.randomUUID(),
    ...(explicitHashKey !== undefined ? { explicitHashKey } : {}),
    missing,
  };
}
