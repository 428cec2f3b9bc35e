/**
 * The spool's side of the command line: records left from an earlier run are
 * shipped first, and stdin lines are written to the spool before they are put
 * (the HTTP intake does the same per request body, in `listen.ts`).
 * @module
 */
import type { Spool } from "../runtime/spool.ts";
import type { LineEvent } from "./lines.ts";
import type { Shipper } from "./shipper.ts";

/** Ships what an earlier run left in the spool; each record settles its frame. */
export async function replaySpool(spool: Spool, shipper: Shipper): Promise<number> {
  let n = 0;
  for (const record of spool.replay()) {
    shipper.counts.recordsRead++;
    await shipper.put(record.data, record.settle);
    n++;
  }
  return n;
}

/**
 * Handles the line events of one input chunk: the lines to ship go to the
 * spool in one append (waiting while it is full), then to the producer; an
 * overlong line goes straight to the dead-letter file, which is durable too.
 */
export async function shipSpooled(
  events: readonly LineEvent[],
  shipper: Shipper,
  spool: Spool,
): Promise<void> {
  const keep: Uint8Array[] = [];
  const shipped: boolean[] = [];
  for (const e of events) {
    if (e.type !== "line") continue;
    const ok = shipper.countLine(e.bytes);
    shipped.push(ok);
    if (ok) keep.push(e.bytes);
  }
  const settles = await spool.append(keep);
  let line = 0;
  let kept = 0;
  for (const e of events) {
    if (e.type !== "line") await shipper.line(e);
    else if (shipped[line++]) await shipper.put(e.bytes, settles[kept++]);
  }
}
