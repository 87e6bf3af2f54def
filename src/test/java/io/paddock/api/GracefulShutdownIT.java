package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * SIGTERM on a real server process with streams in flight: {@code /ready} goes down at once, new requests get 503
 * {@code server_shutting_down}, every stream still receives all its tokens and {@code [DONE]}, and the process exits
 * 0.
 */
class GracefulShutdownIT {
    private static final int STREAMS = 3;
    private static final int TOKENS = 800;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final JsonMapper json = JsonMapper.builder().build();

    record Stream(List<String> data, String finishReason, int completionTokens) {}

    @Test
    void sigtermDrainsStreamsThenExitsZero() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = Files.createTempFile("paddock-drain", ".log");
        Process server = new ProcessBuilder("./paddock", "serve", "--port", String.valueOf(port), "--threads", "1",
                "--paddock.engine.max-num-seqs=" + STREAMS, "--paddock.drain-timeout=120s")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            String base = "http://localhost:" + port;
            awaitHealthy(base, server, log);

            CountDownLatch started = new CountDownLatch(STREAMS);
            List<CompletableFuture<Stream>> streams = new ArrayList<>();
            for (int i = 0; i < STREAMS; i++) {
                streams.add(CompletableFuture.supplyAsync(() -> stream(base, started)));
            }
            assertThat(started.await(60, TimeUnit.SECONDS)).as("streams started").isTrue();

            long t0 = System.nanoTime();
            server.toHandle().destroy(); // SIGTERM
            // Readiness goes down at once, new work is refused while the streams finish.
            HttpResponse<String> ready = awaitStatus(base + "/ready", 503);
            assertThat(ready.body()).contains("\"ready\":false");
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"hi\",\"max_tokens\":2}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            assertThat(json.readTree(refused.body()).get("error").get("code").asString()).isEqualTo("server_shutting_down");
            boolean streamsStillRunning = streams.stream().anyMatch(f -> !f.isDone());
            assertThat(streamsStillRunning).as("the streams outlived the checks during the drain").isTrue();

            for (CompletableFuture<Stream> f : streams) {
                Stream s = f.get(120, TimeUnit.SECONDS);
                assertThat(s.data().getLast()).isEqualTo("[DONE]");
                assertThat(s.finishReason()).isEqualTo("length");
                assertThat(s.completionTokens()).isEqualTo(TOKENS);
            }
            assertThat(server.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
            assertThat(server.exitValue()).as(Files.readString(log)).isZero();
            System.out.printf("drain: %d streams of %d tokens finished, exit 0, %.1f s after SIGTERM%n", STREAMS,
                    TOKENS, (System.nanoTime() - t0) / 1e9);
            assertThat(Files.readString(log)).contains("draining " + STREAMS + " request(s)").contains("drained");
        } finally {
            if (server.isAlive()) server.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    private Stream stream(String base, CountDownLatch started) {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"tell me a story\"}],\"max_tokens\":" + TOKENS
                + ",\"ignore_eos\":true,\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
        try {
            HttpResponse<InputStream> res = http.send(HttpRequest.newBuilder(
                    URI.create(base + "/v1/chat/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(res.statusCode()).isEqualTo(200);
            List<String> data = new ArrayList<>();
            String finish = null;
            int tokens = -1;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (!line.startsWith("data: ")) continue;
                    String d = line.substring(6);
                    data.add(d);
                    if (data.size() == 2) started.countDown();
                    if (d.equals("[DONE]")) break;
                    JsonNode c = json.readTree(d);
                    if (c.has("error")) throw new AssertionError("stream ended with an error: " + d);
                    if (!c.get("choices").isEmpty() && !c.get("choices").get(0).get("finish_reason").isNull()) {
                        finish = c.get("choices").get(0).get("finish_reason").asString();
                    }
                    if (c.hasNonNull("usage")) tokens = c.get("usage").get("completion_tokens").asInt();
                }
            }
            return new Stream(data, finish, tokens);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void awaitHealthy(String base, Process server, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) throw new AssertionError("server exited: " + Files.readString(log));
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) return;
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("server did not start: " + Files.readString(log));
    }

    private HttpResponse<String> awaitStatus(String url, int status) throws Exception {
        HttpResponse<String> last = null;
        for (int i = 0; i < 100; i++) {
            last = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
            if (last.statusCode() == status) return last;
            Thread.sleep(20);
        }
        throw new AssertionError("expected " + status + " from " + url + ", last: " + last.statusCode() + " " + last.body());
    }
}
