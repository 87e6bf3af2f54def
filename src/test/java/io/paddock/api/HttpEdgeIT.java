package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.Socket;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * On the wire, with a raw socket: every status the HTTP edge sends, from whichever layer (Reactor Netty's decoder,
 * Spring's adapter, filters, codecs, controllers), carries the OpenAI error body and an x-request-id, and is logged.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ExtendWith(OutputCaptureExtension.class)
class HttpEdgeIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown path          | 404 | Invalid URL (GET /nope)",
        "wrong method          | 405 | Request method 'DELETE' is not supported",
        "unsupported media     | 415 | Content type 'text/plain' not supported",
        "not acceptable        | 406 | acceptable representation",
        "announced too large   | 413 | the limit is 4194304 bytes",
        "chunked too large     | 413 | Request body too large",
        "request line too long | 414 | Request line too long",
        "bad percent-encoding  | 400 | Malformed request URI: Malformed escape pair",
        "headers too large     | 431 | Request headers too large",
        "model not a string    | 400 | Invalid value for 'model'",
        "empty body            | 400 | the body is empty",
        "bad chunk size        | 400 | Malformed HTTP request body",
    })
    void everyStatusCarriesTheOpenAiBody(String what, int status, String message) {
        RawHttp.Response r = RawHttp.send(port, request(what), 20_000);
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        assertThat(r.header("content-type")).startsWith("application/json");
        assertThat(r.header(RequestIds.HEADER)).startsWith("req_");
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertThat(error.get("message").asString()).contains(message);
        assertThat(error.get("type").asString()).isEqualTo("invalid_request_error");
        assertThat(error.has("param")).isTrue();
        assertThat(error.has("code")).isTrue();
        if (status == 405) assertThat(r.header("allow")).isEqualTo("POST");
        if (what.equals("model not a string")) assertThat(error.get("param").asString()).isEqualTo("model");
    }

    private static byte[] request(String what) {
        String big = "{\"prompt\":\"" + "a".repeat(4 * 1024 * 1024) + "\"}";
        return switch (what) {
            case "unknown path" -> RawHttp.request("GET", "/nope", Map.of(), null);
            case "wrong method" -> RawHttp.request("DELETE", "/v1/completions", Map.of(), null);
            case "unsupported media" -> RawHttp.request("POST", "/v1/completions", Map.of("Content-Type", "text/plain"), "x".getBytes());
            case "not acceptable" -> RawHttp.request("GET", "/v1/models", Map.of("Accept", "image/png"), null);
            case "announced too large" -> RawHttp.json("POST", "/v1/completions", big);
            case "chunked too large" -> RawHttp.request("POST", "/v1/completions", Map.of("Content-Type", "application/json",
                    "Transfer-Encoding", "chunked"), HttpFuzzCases.chunked(big.getBytes(), 65536));
            case "request line too long" -> RawHttp.request("GET", "/v1/models/" + "a".repeat(5000), Map.of(), null);
            case "bad percent-encoding" -> RawHttp.request("GET", "/v1/models/%zz", Map.of(), null);
            case "headers too large" -> RawHttp.request("GET", "/health", Map.of("X-Big", "a".repeat(9000)), null);
            case "model not a string" -> RawHttp.json("POST", "/tokenize", "{\"model\":{},\"prompt\":\"x\"}");
            case "empty body" -> RawHttp.request("POST", "/v1/completions", Map.of("Content-Type", "application/json"), new byte[0]);
            case "bad chunk size" -> RawHttp.request("POST", "/tokenize", Map.of("Content-Type", "application/json",
                    "Transfer-Encoding", "chunked"), "zz\r\n{}\r\n0\r\n\r\n".getBytes());
            default -> throw new IllegalArgumentException(what);
        };
    }

    @Test
    void aSaneClientRequestIdIsEchoedEvenByTheNettyLayerAndAnInsaneOneReplaced() {
        var echoed = RawHttp.send(port, RawHttp.request("GET", "/v1/models/missing", Map.of("x-request-id", "trace-42"), null), 20_000);
        assertThat(echoed.status()).isEqualTo(404);
        assertThat(echoed.header(RequestIds.HEADER)).isEqualTo("trace-42");
        var refused = RawHttp.send(port, RawHttp.request("GET", "/v1/%zz", Map.of("x-request-id", "trace-43"), null), 20_000);
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.header(RequestIds.HEADER)).isEqualTo("trace-43");
        var replaced = RawHttp.send(port, RawHttp.request("GET", "/health", Map.of("x-request-id", "x".repeat(129)), null), 20_000);
        assertThat(replaced.status()).isEqualTo(200);
        assertThat(replaced.header(RequestIds.HEADER)).matches("req_[0-9a-f]{32}");
    }

    @Test
    void eachRequestIsOneAccessLogLineWithTheTemplatedPath(CapturedOutput output) throws Exception {
        RawHttp.send(port, RawHttp.request("GET", "/v1/models/some-model-name", Map.of("x-request-id", "log-1"), null), 20_000);
        RawHttp.send(port, RawHttp.request("GET", "/v1/%zz", Map.of("x-request-id", "log-2"), null), 20_000);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(RawHttp.request("POST", "/v1/completions", Map.of("Content-Type", "application/json",
                    "x-request-id", "log-3"), "{\"prompt\":\"hi\",\"max_tokens\":1000,\"stream\":true}".getBytes()));
            InputStream in = s.getInputStream();
            for (String line = RawHttp.line(in); line != null && !line.startsWith("data:"); line = RawHttp.line(in)) {
                // the client leaves after the first event
            }
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (!(output.getOut().contains("log-1") && output.getOut().contains("log-2") && output.getOut().contains("log-3"))
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(output.getOut()).containsPattern("paddock\\.access +: GET /v1/models/\\{id} 404 \\d+ms log-1\\R")
                .containsPattern("paddock\\.access +: GET /v1/%zz 400 0ms log-2 refused")
                .containsPattern("paddock\\.access +: POST /v1/completions 200 \\d+ms log-3 cancelled")
                .doesNotContain("some-model-name 404");
    }
}
