// Errors also have the AWS SDK v3's shape: `name` is the AWS error code and
// `$metadata` holds httpStatusCode, requestId and attempts, so handling
// written for the SDK keeps working. `instanceof KinesisError` works too.
import { KinesisError, KinesisProducer } from "@kpl/kinesis-producer";

const producer = new KinesisProducer({
  streamName: "no-such-stream",
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" },
  // Stands in for Kinesis, answering as it does for a stream that does not exist.
  fetch: () =>
    Promise.resolve(
      Response.json({ __type: "ResourceNotFoundException", message: "Stream not found" }, {
        status: 400,
        headers: { "x-amzn-RequestId": "example-request-id" },
      }),
    ),
  onFailure: ({ error }) => {
    if (error.name === "ResourceNotFoundException" && error instanceof KinesisError) {
      const { httpStatusCode, requestId } = error.$metadata;
      console.log(`${error.name}: HTTP ${httpStatusCode}, request ${requestId}`);
    }
  },
});
await producer.put("hello");
await producer.close();
