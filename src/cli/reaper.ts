/**
 * The child-process reaper lives in `src/testing/`; this path stays for older imports.
 * @module
 */
export * from "../testing/reaper.ts";
