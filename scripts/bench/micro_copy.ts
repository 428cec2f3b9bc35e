/**
 * Micro-benchmark behind builder.ts's copy strategy: `Uint8Array.prototype.set`
 * against a byte loop, for record-sized copies into a 1 MiB aggregate buffer.
 * `deno run -A scripts/bench/micro_copy.ts`
 * @module
 */
const out = new Uint8Array(1 << 20);
for (const size of [8, 16, 32, 64, 200, 1000]) {
  const src = new Uint8Array(size).fill(7);
  const per = Math.floor(out.length / size);
  const reps = Math.max(1, Math.floor(2e8 / out.length));
  const results: Record<string, number[]> = { set: [], loop: [] };
  for (let round = 0; round < 5; round++) {
    let t0 = performance.now();
    for (let r = 0; r < reps; r++) {
      let pos = 0;
      for (let i = 0; i < per; i++) {
        out.set(src, pos);
        pos += size;
      }
    }
    results.set.push(performance.now() - t0);
    t0 = performance.now();
    for (let r = 0; r < reps; r++) {
      let pos = 0;
      for (let i = 0; i < per; i++) {
        for (let j = 0; j < size; j++) out[pos + j] = src[j];
        pos += size;
      }
    }
    results.loop.push(performance.now() - t0);
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[2];
  console.log(
    `${String(size).padStart(5)} B: set ${med(results.set).toFixed(1)} ms, loop ${
      med(results.loop).toFixed(1)
    } ms (loop/set ${(med(results.loop) / med(results.set)).toFixed(2)})`,
  );
}
