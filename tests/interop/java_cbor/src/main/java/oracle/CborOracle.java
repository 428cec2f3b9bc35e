package oracle;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordRequest;
import software.amazon.awssdk.services.kinesis.model.PutRecordResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequest;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;

/**
 * The AWS SDK for Java v2 (CBOR by default for Kinesis) as an oracle. Reads
 * lines from stdin: {@code <case> <response hex>}; for each, makes the call the
 * case names through an HTTP client that records the request and answers with
 * the given CBOR response, then prints {@code <case> <request hex> <parsed>}.
 * Inputs are fixed here and mirrored in tests/aws/cbor_java_sdk_test.ts.
 */
public final class CborOracle {
  static byte[] lastRequest;
  static String lastContentType;
  static byte[] nextResponse;
  static int nextStatus = 200;

  static byte[] data(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) b[i] = (byte) ((i * 31 + seed) & 0xff);
    return b;
  }

  public static void main(String[] args) throws Exception {
    SdkHttpClient http = new SdkHttpClient() {
      @Override
      public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
        return new ExecutableHttpRequest() {
          @Override
          public HttpExecuteResponse call() throws java.io.IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (request.contentStreamProvider().isPresent()) {
              try (InputStream in = request.contentStreamProvider().get().newStream()) {
                in.transferTo(out);
              }
            }
            lastRequest = out.toByteArray();
            lastContentType = request.httpRequest().firstMatchingHeader("Content-Type").orElse("");
            SdkHttpResponse head = SdkHttpResponse.builder().statusCode(nextStatus)
                .putHeader("Content-Type", "application/x-amz-cbor-1.1")
                .putHeader("Content-Length", String.valueOf(nextResponse.length)).build();
            return HttpExecuteResponse.builder().response(head)
                .responseBody(AbortableInputStream.create(new ByteArrayInputStream(nextResponse)))
                .build();
          }

          @Override
          public void abort() {}
        };
      }

      @Override
      public void close() {}
    };
    KinesisClient client = KinesisClient.builder()
        .overrideConfiguration(o -> o.retryStrategy(software.amazon.awssdk.core.retry.RetryMode.STANDARD).retryStrategy(b -> b.maxAttempts(1)))
        .region(Region.US_EAST_1)
        .endpointOverride(URI.create("http://127.0.0.1:9"))
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create("AKIDORACLE", "oracle-secret")))
        .httpClient(http)
        .build();
    java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) continue;
      String[] parts = line.trim().split(" ");
      String name = parts[0];
      nextResponse = HexFormat.of().parseHex(parts[1]);
      nextStatus = name.endsWith("-error") ? 400 : 200;
      String parsed;
      switch (name) {
        case "put-record-error": {
          try {
            client.putRecord(PutRecordRequest.builder().streamName("oracle-stream")
                .data(SdkBytes.fromByteArray(data(10, 1))).partitionKey("e").build());
            parsed = "no error";
          } catch (software.amazon.awssdk.awscore.exception.AwsServiceException e) {
            parsed = e.awsErrorDetails().errorCode() + "|" + e.awsErrorDetails().errorMessage()
                + "|" + e.statusCode();
          }
          break;
        }
        case "put-record": {
          PutRecordResponse r = client.putRecord(PutRecordRequest.builder()
              .streamName("oracle-stream")
              .data(SdkBytes.fromByteArray(data(300, 7)))
              .partitionKey("pk-ключ-1")
              .explicitHashKey("170141183460469231731687303715884105728")
              .sequenceNumberForOrdering("49590338271490256608559692538361571095921575989136588898")
              .build());
          parsed = r.shardId() + "|" + r.sequenceNumber() + "|" + r.encryptionTypeAsString();
          break;
        }
        case "put-record-arn": {
          PutRecordResponse r = client.putRecord(PutRecordRequest.builder()
              .streamARN("arn:aws:kinesis:us-east-1:123456789012:stream/oracle-stream")
              .data(SdkBytes.fromByteArray(data(0, 0)))
              .partitionKey("k")
              .build());
          parsed = r.shardId() + "|" + r.sequenceNumber() + "|" + r.encryptionTypeAsString();
          break;
        }
        case "put-record-large": {
          PutRecordResponse r = client.putRecord(PutRecordRequest.builder()
              .streamName("oracle-stream")
              .data(SdkBytes.fromByteArray(data(70000, 3)))
              .partitionKey("a")
              .build());
          parsed = r.shardId() + "|" + r.sequenceNumber() + "|" + r.encryptionTypeAsString();
          break;
        }
        case "put-records": {
          List<PutRecordsRequestEntry> entries = new ArrayList<>();
          entries.add(PutRecordsRequestEntry.builder()
              .data(SdkBytes.fromByteArray(data(200, 1))).partitionKey("p1").build());
          entries.add(PutRecordsRequestEntry.builder()
              .data(SdkBytes.fromByteArray(data(24, 2))).partitionKey("p2")
              .explicitHashKey("42").build());
          entries.add(PutRecordsRequestEntry.builder()
              .data(SdkBytes.fromByteArray(data(1, 5))).partitionKey("🔑").build());
          PutRecordsResponse r = client.putRecords(PutRecordsRequest.builder()
              .streamName("oracle-stream").records(entries).build());
          StringBuilder s = new StringBuilder();
          s.append(r.failedRecordCount()).append("|").append(r.encryptionTypeAsString());
          for (PutRecordsResultEntry e : r.records()) {
            s.append("|").append(e.shardId()).append(",").append(e.sequenceNumber())
                .append(",").append(e.errorCode()).append(",").append(e.errorMessage());
          }
          parsed = s.toString();
          break;
        }
        default:
          throw new IllegalArgumentException("unknown case " + name);
      }
      System.out.println(name + " " + lastContentType + " " + HexFormat.of().formatHex(lastRequest)
          + " " + java.util.Base64.getEncoder().encodeToString(parsed.getBytes("UTF-8")));
      System.out.flush();
    }
    client.close();
  }
}
