// Await delivery of a record, cancel waits with an AbortSignal, close with
// `await using`, and route what the library says to your logger.
import { KinesisProducer, type PutRecordClient } from "@kpl/kinesis-producer";

// Stands in for Kinesis so the example runs anywhere; drop `client` for the real thing.
let sequence = 0;
const client: PutRecordClient = {
  putRecord: () =>
    Promise.resolve({ shardId: "shardId-000000000003", sequenceNumber: String(++sequence) }),
};

{
  await using producer = new KinesisProducer({
    streamName: "orders",
    client,
    logger: { debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  // put() resolves when the record is buffered; deliver() when Kinesis has it.
  void producer.put('{"order":1}');
  const { shardId, sequenceNumber, subSequenceNumber, attempts } = await producer.deliver(
    '{"order":2}',
  );
  console.log(
    `order 2: ${shardId}, sequence ${sequenceNumber}/${subSequenceNumber}, ${attempts} attempt`,
  );
  // Stop waiting for a flush after 5 s; delivery itself goes on.
  await producer.flush({ signal: AbortSignal.timeout(5_000) });
} // leaving the block closes the producer: everything is delivered or reported
