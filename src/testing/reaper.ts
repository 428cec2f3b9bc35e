/**
 * Kills tracked child processes when this process exits or gets
 * SIGINT/SIGTERM. Shared by kinesis-mock (`--local`, tests) and the LocalStack
 * test harness. Node/Deno/Bun only: it hooks `node:process` events.
 * @module
 */
import process from "node:process";

/** Options for {@linkcode track}. */
export interface TrackOptions {
  /**
   * Also kill on SIGINT/SIGTERM, then re-raise the signal so the default
   * action (exit by the signal) still happens. When false, only the exit hook
   * applies and the caller handles signals itself.
   * @default {true}
   */
  signals?: boolean;
}

interface Entry {
  killNow: () => void;
  signals: boolean;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
const live = new Set<Entry>();
let exitHooked = false;
let signalsHooked = false;

function killAllNow(): void {
  for (const e of live) e.killNow();
}

function onSignal(sig: NodeJS.Signals): void {
  for (const e of live) {
    if (!e.signals) continue;
    e.killNow();
    live.delete(e);
  }
  sync();
  // Re-raise so the default action (exit by the signal) still happens.
  process.kill(process.pid, sig);
}

// Hooks exist only while something is tracked, so they never hold the event
// loop open nor change signal handling for the rest of the process.
function sync(): void {
  const wantExit = live.size > 0;
  const wantSignals = [...live].some((e) => e.signals);
  if (wantExit !== exitHooked) {
    exitHooked = wantExit;
    if (wantExit) process.on("exit", killAllNow);
    else process.off("exit", killAllNow);
  }
  if (wantSignals !== signalsHooked) {
    signalsHooked = wantSignals;
    for (const s of SIGNALS) {
      if (wantSignals) process.on(s, onSignal);
      else process.off(s, onSignal);
    }
  }
}

/**
 * Calls `killNow` (which must be synchronous) if this process exits, or gets
 * SIGINT/SIGTERM, while tracked.
 *
 * @example Track a child until it exits
 * ```ts ignore
 * import { spawn } from "node:child_process";
 * import { track } from "./reaper.ts";
 *
 * const child = spawn("sleep", ["60"]);
 * const untrack = track(() => child.kill("SIGKILL"));
 * child.once("close", untrack);
 * ```
 *
 * @param killNow Kills the child synchronously.
 * @param opts Whether signals are handled too.
 * @returns A function that stops tracking; calling it again does nothing.
 */
export function track(killNow: () => void, opts: TrackOptions = {}): () => void {
  const { signals = true } = opts;
  const entry: Entry = { killNow, signals };
  live.add(entry);
  sync();
  return () => {
    if (live.delete(entry)) sync();
  };
}
