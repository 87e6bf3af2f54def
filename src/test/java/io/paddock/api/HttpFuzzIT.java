package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.util.ResourceLeakDetector;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Over a thousand malformed requests ({@link HttpFuzzCases}) against a real server on the demo model, then clients
 * that misbehave on a stream. None may get a 500, an empty or non-OpenAI error body, no x-request-id, or a dropped
 * connection; afterwards the server must be healthy: /health answers, a completion works, /ready shows nothing
 * running and every KV block free, and no Netty buffer leaked (paranoid leak detection). The random part is seeded: {@code -Dfuzz.seed=N} replays a run.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class HttpFuzzIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int TIMEOUT_MS = 30_000;

    @LocalServerPort
    int port;

    record Outcome(HttpFuzzCases.Case c, RawHttp.Response r, String problem) {}

    @Test
    void malformedRequestsGetOpenAiErrorsAndLeaveTheServerHealthy() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        String replay = "seed " + seed + " (replay with -Dfuzz.seed=" + seed + ")";
        System.out.println("HttpFuzzIT " + replay);
        int freeBefore = kvBlocksFree();

        List<HttpFuzzCases.Case> cases = HttpFuzzCases.all(new SplittableRandom(seed));
        assertThat(cases).hasSizeGreaterThanOrEqualTo(1000);
        long start = System.nanoTime();
        List<Outcome> outcomes = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (var c : cases) futures.add(pool.submit(() -> {
                RawHttp.Response r = RawHttp.send(port, c.request(), TIMEOUT_MS);
                return new Outcome(c, r, judge(c, r));
            }));
            for (var f : futures) outcomes.add(f.get());
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        Map<String, Map<Integer, Integer>> byCategory = new TreeMap<>();
        for (Outcome o : outcomes) byCategory.computeIfAbsent(o.c().category(), k -> new TreeMap<>()).merge(o.r().status(), 1, Integer::sum);
        System.out.println("HttpFuzzIT: " + cases.size() + " requests in " + millis + " ms; statuses by category: " + byCategory);
        List<String> problems = outcomes.stream().filter(o -> o.problem() != null)
                .map(o -> o.c().category() + " / " + o.c().label() + ": " + o.problem()).toList();
        assertThat(problems).as(replay).isEmpty();

        badStreamingClients();
        assertHealthy(freeBefore, replay);
        noBufferLeaks(cases, replay);
    }

    /**
     * The requests answered below the controllers (Netty refusals, framework statuses, unreadable bodies) once more
     * with every buffer tracked (paranoid leak detection, too slow for the whole run): none may leak.
     */
    private void noBufferLeaks(List<HttpFuzzCases.Case> cases, String replay) throws Exception {
        ResourceLeakDetector.Level leakLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ListAppender<ILoggingEvent> leaks = new ListAppender<>();
        leaks.start();
        Logger leakLog = (Logger) LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector");
        leakLog.addAppender(leaks);
        Set<String> edge = Set.of("url", "header", "request-id", "method", "size", "bytes", "content-type", "nesting");
        for (var c : cases) if (edge.contains(c.category())) RawHttp.send(port, c.request(), TIMEOUT_MS);
        System.gc();
        Thread.sleep(500);
        // Paranoid detection reports a leaked buffer when the next buffers are allocated: drive a few requests.
        for (int i = 0; i < 20; i++) RawHttp.send(port, RawHttp.request("GET", "/v1/%zz", Map.of(), null), TIMEOUT_MS);
        for (int i = 0; i < 20; i++) RawHttp.send(port, RawHttp.json("POST", "/tokenize", "{\"prompt\":1}"), TIMEOUT_MS);
        leakLog.detachAppender(leaks);
        ResourceLeakDetector.setLevel(leakLevel);
        assertThat(leaks.list).as("Netty buffer leaks, " + replay).isEmpty();
    }

    /** What is wrong with an answer, or null. */
    static String judge(HttpFuzzCases.Case c, RawHttp.Response r) {
        if (r.dropped()) return "no answer (" + r.failure() + ")";
        String id = r.header(RequestIds.HEADER);
        if (id == null) return r.status() + " without x-request-id";
        if (c.expectId() != null ? !id.equals(c.expectId()) : !id.startsWith("req_")) return "x-request-id " + id;
        if (r.status() >= 500) return "status " + r.status() + ": " + cut(r.text());
        if (r.status() >= 400) return openAiError(r);
        if (r.status() >= 200 && r.status() < 300) return success(r);
        return "status " + r.status();
    }

    static String openAiError(RawHttp.Response r) {
        try {
            JsonNode body = JSON.readTree(r.body());
            JsonNode e = body.get("error");
            if (e == null || !e.isObject() || body.size() != 1) return r.status() + " body is not an OpenAI error: " + cut(r.text());
            if (!e.path("message").isString() || e.path("message").asString().isBlank()) return "no message: " + cut(r.text());
            String type = r.status() == 429 ? "requests" : r.status() >= 500 ? "server_error" : "invalid_request_error";
            if (!type.equals(e.path("type").asString(null))) return "type " + e.path("type") + " for " + r.status();
            for (String k : List.of("param", "code")) {
                if (!e.has(k) || !(e.get(k).isNull() || e.get(k).isString())) return k + " missing or not a string: " + cut(r.text());
            }
            return null;
        } catch (RuntimeException ex) {
            return r.status() + " body is not JSON: " + cut(r.text());
        }
    }

    /** A JSON object, a stream that ends with [DONE] or an error event, or no body at all (OPTIONS). */
    static String success(RawHttp.Response r) {
        String type = r.header("content-type");
        if (r.body().length == 0) return null;
        if (type != null && type.startsWith("text/event-stream")) {
            String text = r.text();
            // A completion stream ends with [DONE] or an error event; other JSON answers may be sent as one event.
            boolean generation = text.contains("\"choices\"");
            boolean ended = text.contains("data: [DONE]") || text.contains("event:error");
            return (generation ? ended : text.startsWith("data:")) ? null : "stream without [DONE]: " + cut(text);
        }
        try {
            return JSON.readTree(r.body()).isObject() ? null : "success body is not an object: " + cut(r.text());
        } catch (RuntimeException ex) {
            return "success body is not JSON: " + cut(r.text());
        }
    }

    /** A client that never reads its stream, one that leaves after the first event, three at once that never read. */
    private void badStreamingClients() throws Exception {
        String body = "{\"prompt\":\"hello\",\"max_tokens\":1500,\"stream\":true,\"n\":2}";
        byte[] request = RawHttp.json("POST", "/v1/completions", body);
        List<Socket> idle = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
            s.getOutputStream().write(request);
            idle.add(s);
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
            s.setSoTimeout(TIMEOUT_MS);
            OutputStream out = s.getOutputStream();
            out.write(RawHttp.json("POST", "/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1500,\"stream\":true}"));
            InputStream in = s.getInputStream();
            for (String line = RawHttp.line(in); line != null && !line.startsWith("data:"); line = RawHttp.line(in)) {
                // up to the first event
            }
        }
        Thread.sleep(1500);
        for (Socket s : idle) s.close();
    }

    private void assertHealthy(int freeBefore, String replay) throws Exception {
        RawHttp.Response health = RawHttp.send(port, RawHttp.request("GET", "/health", Map.of(), null), TIMEOUT_MS);
        assertThat(health.status()).as(replay).isEqualTo(200);
        RawHttp.Response done = RawHttp.send(port, RawHttp.json("POST", "/v1/completions",
                "{\"prompt\":\"hello there\",\"max_tokens\":4,\"seed\":1}"), TIMEOUT_MS);
        assertThat(done.status()).as(replay + " " + done.text()).isEqualTo(200);
        assertThat(JSON.readTree(done.body()).path("usage").path("completion_tokens").asInt()).isBetween(1, 4);
        JsonNode engine = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            engine = ready();
            if (engine.path("running").asInt() == 0 && engine.path("waiting").asInt() == 0
                    && engine.path("kv_blocks_free").asInt() == freeBefore) break;
            Thread.sleep(100);
        }
        assertThat(engine.path("running").asInt()).as(replay + " " + engine).isZero();
        assertThat(engine.path("waiting").asInt()).as(replay + " " + engine).isZero();
        assertThat(engine.path("pending").asInt()).as(replay + " " + engine).isZero();
        assertThat(engine.path("kv_blocks_free").asInt()).as(replay + " " + engine).isEqualTo(freeBefore);
    }

    private int kvBlocksFree() throws Exception {
        return ready().path("kv_blocks_free").asInt();
    }

    private JsonNode ready() throws Exception {
        RawHttp.Response r = RawHttp.send(port, RawHttp.request("GET", "/ready", Map.of(), null), TIMEOUT_MS);
        assertThat(r.status()).isEqualTo(200);
        return JSON.readTree(r.body()).path("models").get(0);
    }

    private static String cut(String s) {
        String one = s.replace("\n", "\\n").replace("\r", "\\r");
        return one.length() <= 300 ? one : one.substring(0, 300) + "...";
    }
}
