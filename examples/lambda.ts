// AWS Lambda with a Kinesis trigger: the user records inside KPL aggregates,
// with a batch item failure for any Kinesis record whose aggregate is corrupt
// (turn on ReportBatchItemFailures in the event source mapping).
import { deaggregateEvent, type LambdaKinesisEvent } from "@kpl/kinesis-producer";

export async function handler(event: LambdaKinesisEvent) {
  const failed = new Set<string>();
  for (const record of await deaggregateEvent(event)) {
    if (record.error) failed.add(record.sequenceNumber);
    else {
      const text = new TextDecoder().decode(record.data);
      console.log(
        `${record.sequenceNumber}/${record.subSequenceNumber} ${record.partitionKey}: ${text}`,
      );
    }
  }
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}
