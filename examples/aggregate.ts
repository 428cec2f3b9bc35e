// The format alone: pack records into KPL aggregates, read them back.
import { aggregate, deaggregate } from "@kpl/kinesis-producer";

const enc = new TextEncoder();
const records = ["alpha", "beta", "gamma"].map((s) => ({ data: enc.encode(s) }));
for (const agg of aggregate(records)) {
  // agg.data and agg.partitionKey are the body of one PutRecord.
  const back = deaggregate(agg.data, agg.partitionKey);
  console.log(back.map((r) => new TextDecoder().decode(r.data)).join(" "));
}
