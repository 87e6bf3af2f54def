package io.paddock.bench;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code paddock bench load}: overload a running server the way production does and check that it degrades by
 * design. {@code requests} concurrent streaming chat requests, a share of them disconnecting at random points
 * (raw sockets closed mid-stream), plus a burst of non-streaming requests beyond the admission limit. Every request
 * that was not disconnected must complete or be refused with a 429/503 and an OpenAI error body; any 5xx, broken
 * stream or malformed answer is a failure. Reports the outcome counts and time to first token (p50/p99) as clients
 * saw it. Whether the server is idle again afterwards (KV blocks, running requests) is read from its
 * {@code /metrics} by {@link #awaitIdle}.
 */
public final class LoadTest {
    private LoadTest() {}

    /**
     * @param base       the server, e.g. {@code http://localhost:8000}
     * @param requests   concurrent streaming chat requests
     * @param disconnect share of them that disconnect mid-stream (0..1)
     * @param burst      non-streaming requests fired at once while the streams run
     * @param maxTokens  most tokens per request (each draws 1..maxTokens)
     * @param apiKey     sent as a bearer token when not null
     */
    public record Options(URI base, int requests, double disconnect, int burst, int maxTokens, long seed, String apiKey) {}

    /** Outcomes; {@code failures} holds one line per request that neither completed nor was refused by design. */
    public record Report(int streams, int completed, int disconnected, int burst, int burstCompleted, int refused503,
            int refused429, List<String> failures, double ttftP50Ms, double ttftP99Ms, double seconds) {
        public boolean clean() {
            return failures.isEmpty();
        }

        String format() {
            return String.format(Locale.ROOT, "load: %d streams (%d completed, %d disconnected on purpose), burst of %d"
                    + " (%d completed); refused by design: %d x 503, %d x 429; failures: %d; TTFT p50 %.1f ms, p99 %.1f ms;"
                    + " %.1f s", streams, completed, disconnected, burst, burstCompleted, refused503, refused429,
                    failures.size(), ttftP50Ms, ttftP99Ms, seconds);
        }
    }

    private enum Outcome { COMPLETED, DISCONNECTED, REFUSED_503, REFUSED_429, FAILED }

    private record Result(Outcome outcome, double ttftMs, String failure) {
        static Result failed(String why) {
            return new Result(Outcome.FAILED, -1, why);
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String[] WORDS = {"once", "upon", "a", "time", "there", "was", "a", "little", "girl", "named",
        "Lily", "she", "liked", "to", "play", "in", "the", "park", "with", "her", "dog"};

    public static Report run(Options o, PrintStream out) throws InterruptedException {
        SplittableRandom random = new SplittableRandom(o.seed());
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        long t0 = System.nanoTime();
        List<Future<Result>> streams = new ArrayList<>();
        List<Future<Result>> burst = new ArrayList<>();
        AtomicInteger started = new AtomicInteger();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < o.requests(); i++) {
                String body = chatBody(random.split(), 1 + random.nextInt(o.maxTokens()), true);
                int cutAfter = random.nextDouble() < o.disconnect() ? 1 + random.nextInt(Math.max(1, o.maxTokens() / 2)) : -1;
                streams.add(pool.submit(() -> {
                    started.incrementAndGet();
                    return cutAfter > 0 ? disconnecting(o, body, cutAfter) : stream(http, o, body);
                }));
            }
            while (started.get() < o.requests()) Thread.sleep(5);
            for (int i = 0; i < o.burst(); i++) {
                String body = chatBody(random.split(), 1 + random.nextInt(o.maxTokens()), false);
                burst.add(pool.submit(() -> plain(http, o, body)));
            }
        }
        List<Result> s = results(streams), b = results(burst);
        List<Double> ttft = new ArrayList<>();
        for (Result r : s) if (r.ttftMs() >= 0) ttft.add(r.ttftMs());
        Collections.sort(ttft);
        List<String> failures = new ArrayList<>();
        for (Result r : s) if (r.outcome() == Outcome.FAILED) failures.add("stream: " + r.failure());
        for (Result r : b) if (r.outcome() == Outcome.FAILED) failures.add("burst: " + r.failure());
        Report report = new Report(s.size(), count(s, Outcome.COMPLETED), count(s, Outcome.DISCONNECTED), b.size(),
                count(b, Outcome.COMPLETED), count(s, Outcome.REFUSED_503) + count(b, Outcome.REFUSED_503),
                count(s, Outcome.REFUSED_429) + count(b, Outcome.REFUSED_429), failures, percentile(ttft, 0.5),
                percentile(ttft, 0.99), (System.nanoTime() - t0) / 1e9);
        out.println(report.format());
        failures.stream().limit(10).forEach(f -> out.println("  " + f));
        return report;
    }

    /**
     * Polls the server's {@code /metrics} until no request runs or waits and no KV block is held (up to
     * {@code timeout}); returns the last values read, e.g. {@code paddock_kv_cache_blocks_used}.
     */
    public static PrometheusText awaitIdle(URI base, Duration timeout) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        PrometheusText last;
        do {
            HttpResponse<String> res = http.send(HttpRequest.newBuilder(base.resolve("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() != 200) {
                throw new IOException("no metrics at " + base.resolve("/metrics") + " (status " + res.statusCode() + ")");
            }
            last = PrometheusText.parse(res.body());
            if (!last.has("paddock_kv_cache_blocks_total")) {
                throw new IOException("no paddock metrics at " + base.resolve("/metrics"));
            }
            if (last.sum("paddock_kv_cache_blocks_used") == 0 && last.sum("paddock_requests_running") == 0
                    && last.sum("paddock_requests_waiting") == 0) {
                return last;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        return last;
    }

    private static String chatBody(SplittableRandom r, int maxTokens, boolean stream) {
        StringBuilder text = new StringBuilder();
        for (int i = 0, n = 1 + r.nextInt(30); i < n; i++) text.append(i == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
        return "{\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}],\"max_tokens\":" + maxTokens
                + ",\"temperature\":0.8,\"seed\":" + r.nextInt(1000) + (stream ? ",\"stream\":true" : "") + "}";
    }

    private static HttpRequest.Builder post(Options o, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(o.base().resolve("/v1/chat/completions"))
                .timeout(Duration.ofMinutes(5)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (o.apiKey() != null) b.header("Authorization", "Bearer " + o.apiKey());
        return b;
    }

    /** A refusal by design (429/503 with an OpenAI error body), or null when the status is not one. */
    private static Result refusal(int status, String body) {
        if (status != 429 && status != 503) return null;
        try {
            JsonNode error = JSON.readTree(body).get("error");
            if (error == null || !error.hasNonNull("message")) return Result.failed(status + " without an OpenAI error: " + body);
        } catch (RuntimeException e) {
            return Result.failed(status + " with a body that is not JSON: " + body);
        }
        return new Result(status == 503 ? Outcome.REFUSED_503 : Outcome.REFUSED_429, -1, null);
    }

    private static Result stream(HttpClient http, Options o, String body) {
        long t0 = System.nanoTime();
        try {
            HttpResponse<InputStream> res = http.send(post(o, body).build(), HttpResponse.BodyHandlers.ofInputStream());
            if (res.statusCode() != 200) {
                String text = new String(res.body().readAllBytes(), StandardCharsets.UTF_8);
                Result r = refusal(res.statusCode(), text);
                return r != null ? r : Result.failed("status " + res.statusCode() + ": " + text);
            }
            double ttft = -1;
            boolean done = false, finished = false;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (!line.startsWith("data:")) continue;
                    String data = line.substring(5).trim();
                    if (data.equals("[DONE]")) {
                        done = true;
                        break;
                    }
                    JsonNode chunk = JSON.readTree(data);
                    if (chunk.has("error")) return Result.failed("error in the stream: " + data);
                    JsonNode choice = chunk.get("choices").get(0);
                    String content = choice.get("delta").path("content").asString("");
                    if (ttft < 0 && !content.isEmpty()) ttft = (System.nanoTime() - t0) / 1e6;
                    if (!choice.get("finish_reason").isNull()) finished = true;
                }
            }
            if (!done || !finished) return Result.failed("stream ended without a finish reason and [DONE]");
            return new Result(Outcome.COMPLETED, ttft, null);
        } catch (IOException | RuntimeException e) {
            return Result.failed(e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Result.failed("interrupted");
        }
    }

    /** A client that goes away: raw HTTP/1.1 on a socket, closed after {@code cutAfter} SSE events. */
    private static Result disconnecting(Options o, String body, int cutAfter) {
        byte[] payload = body.getBytes(StandardCharsets.UTF_8);
        URI u = o.base();
        try (Socket socket = new Socket(u.getHost(), u.getPort())) {
            socket.setSoTimeout(300_000);
            OutputStream w = socket.getOutputStream();
            String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: " + u.getHost() + ":" + u.getPort()
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + payload.length + "\r\n"
                    + (o.apiKey() != null ? "Authorization: Bearer " + o.apiKey() + "\r\n" : "") + "\r\n";
            w.write(head.getBytes(StandardCharsets.US_ASCII));
            w.write(payload);
            w.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String status = line(in);
            if (status == null) return Result.failed("connection closed before a status line");
            int code = Integer.parseInt(status.split(" ")[1]);
            int length = -1;
            boolean chunked = false;
            for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) length = Integer.parseInt(lower.substring(15).trim());
                if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
            }
            if (code != 200) {
                if (chunked) length = Integer.parseInt(line(in).trim(), 16);
                String json = length < 0 ? "" : new String(in.readNBytes(length), StandardCharsets.UTF_8);
                Result r = refusal(code, json);
                return r != null ? r : Result.failed("status " + code + ": " + json);
            }
            int events = 0;
            for (String l; (l = line(in)) != null; ) {
                if (l.startsWith("data:") && ++events >= cutAfter) break;
                if (l.contains("[DONE]")) break;
            }
            return new Result(Outcome.DISCONNECTED, -1, null);
        } catch (IOException | RuntimeException e) {
            return Result.failed("disconnecting client: " + e);
        }
    }

    /** One CRLF- or LF-terminated line of bytes as text, or null at the end of the stream. */
    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) != -1; ) {
            if (c == '\n') return b.toString();
            if (c != '\r') b.append((char) c);
        }
        return b.isEmpty() ? null : b.toString();
    }

    private static Result plain(HttpClient http, Options o, String body) {
        try {
            HttpResponse<String> res = http.send(post(o, body).build(), HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() == 200) {
                JsonNode choice = JSON.readTree(res.body()).get("choices").get(0);
                if (choice.get("finish_reason").isNull()) return Result.failed("no finish_reason: " + res.body());
                return new Result(Outcome.COMPLETED, -1, null);
            }
            Result r = refusal(res.statusCode(), res.body());
            return r != null ? r : Result.failed("status " + res.statusCode() + ": " + res.body());
        } catch (IOException | RuntimeException e) {
            return Result.failed(e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Result.failed("interrupted");
        }
    }

    private static List<Result> results(List<Future<Result>> futures) throws InterruptedException {
        List<Result> out = new ArrayList<>();
        for (Future<Result> f : futures) {
            try {
                out.add(f.get());
            } catch (ExecutionException e) {
                out.add(Result.failed(String.valueOf(e.getCause())));
            }
        }
        return out;
    }

    private static int count(List<Result> results, Outcome o) {
        return (int) results.stream().filter(r -> r.outcome() == o).count();
    }

    private static double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) return Double.NaN;
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }
}
