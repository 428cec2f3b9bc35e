/**
 * Byte-array helpers on web-platform types only.
 * @module
 */

/**
 * Joins `parts` into one new array, copying each part once.
 *
 * @example Join two parts
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 *
 * const joined = concatBytes([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * if (joined.join() !== "1,2,3") throw new Error("unexpected");
 * ```
 *
 * @param parts The arrays, in order.
 * @param total Their summed length, when the caller already counted it.
 * @returns A new array of `total` bytes.
 */
export function concatBytes(
  parts: readonly Uint8Array[],
  total: number = sumLengths(parts),
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(total);
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

function sumLengths(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const part of parts) n += part.length;
  return n;
}
