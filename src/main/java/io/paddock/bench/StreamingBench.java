package io.paddock.bench;

import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.sampling.SamplingParams;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code paddock bench streaming --model DIR}: the decode rate streaming HTTP clients see versus the engine's own
 * rate, side by side in one process. Starts the real server on a free port; each round runs N requests straight on
 * the engine, then the same N requests as concurrent {@code stream: true} HTTP clients reading SSE (with
 * {@code logprobs: 0}, so every token is counted even where its text is held back); both are timed over the
 * full-batch decode window ({@link DecodeWindow}). The server itself is started by the application edge (the one
 * place Spring may be used) through {@link ServerStarter}; this class only measures.
 */
public final class StreamingBench {
    private StreamingBench() {}

    /**
     * What to measure, as {@code cli.BenchCommand} parses it.
     *
     * @param threads engine threads, or null for the server's default
     */
    public record Options(String model, List<Integer> levels, int tokens, int promptTokens, int rounds, Integer threads) {
        public Options {
            levels = List.copyOf(levels);
        }
    }

    /** A running server on a local port, and the engine behind it (closing it stops the server). */
    public interface Server extends AutoCloseable {
        int port();

        GenerationService service();

        @Override
        void close();
    }

    /** Starts the real HTTP server on a free port serving {@code model}. */
    @FunctionalInterface
    public interface ServerStarter {
        Server start(String model, Integer threads, int maxNumSeqs);
    }

    public static int run(Options o, ServerStarter starter, PrintStream out) {
        int steps = o.tokens(), promptTokens = o.promptTokens(), rounds = o.rounds();
        List<Integer> levels = o.levels();
        int maxNumSeqs = Math.max(16, levels.stream().max(Integer::compare).orElse(1));
        try (Server server = starter.start(o.model(), o.threads(), maxNumSeqs);
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            int port = server.port();
            GenerationService service = server.service();
            HttpClient http = HttpClient.newHttpClient();
            out.printf(Locale.ROOT, "streaming bench: %s, %d new tokens after %d-token prompts, %d rounds per level%n",
                    service.model().id(), steps, promptTokens, rounds);
            out.printf(Locale.ROOT, "%6s %16s %16s %8s%n", "conc", "engine tok/s", "client tok/s", "loss");
            for (int conc : levels) {
                List<Double> engine = new ArrayList<>(), client = new ArrayList<>();
                for (int round = 0; round < rounds + 1; round++) { // round 0 warms up both paths
                    int[][] prompts = prompts(conc, promptTokens, round, service.model().checkpoint().config().vocabSize());
                    DecodeWindow direct = new DecodeWindow(conc, null);
                    for (int s = 0; s < conc; s++) {
                        service.stream(new GenerationRequest(prompts[s], steps + 1, SamplingParams.greedy(), List.of(), true),
                                direct.listener(s));
                    }
                    direct.await();
                    DecodeWindow viaHttp = new DecodeWindow(conc, null);
                    for (int s = 0; s < conc; s++) {
                        int stream = s;
                        clients.submit(() -> streamOne(http, port, service.model().id(), prompts[stream], steps + 1, stream, viaHttp));
                    }
                    viaHttp.await();
                    if (round > 0) {
                        engine.add(direct.tokensPerSecond());
                        client.add(viaHttp.tokensPerSecond());
                    }
                }
                double e = Stats.median(engine), c = Stats.median(client);
                out.printf(Locale.ROOT, "%6d %16.1f %16.1f %7.1f%%%n", conc, e, c, 100 * (1 - c / e));
            }
        }
        return 0;
    }

    private static int[][] prompts(int conc, int len, int round, int vocab) {
        int[][] p = new int[conc][len];
        for (int s = 0; s < conc; s++) {
            p[s][0] = 1;
            for (int i = 1; i < len; i++) p[s][i] = 3 + (i * 7 + s * 13 + round * 5) % (vocab - 3);
        }
        return p;
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** One streaming client: counts the tokens of each chunk as it arrives. */
    private static void streamOne(HttpClient http, int port, String model, int[] prompt, int maxTokens, int stream,
            DecodeWindow window) {
        String body = "{\"model\":\"" + model + "\",\"prompt\":" + Arrays.stream(prompt).mapToObj(Integer::toString)
                .collect(Collectors.joining(",", "[", "]")) + ",\"max_tokens\":" + maxTokens
                + ",\"temperature\":0,\"ignore_eos\":true,\"stream\":true,\"logprobs\":0}";
        try {
            HttpResponse<InputStream> res = http.send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + port + "/v1/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.startsWith("data:") || line.contains("[DONE]")) continue;
                    // logprobs: 0 makes every token visible (even one whose text is held back or empty).
                    JsonNode lp = JSON.readTree(line.substring(5)).path("choices").path(0).path("logprobs").path("token_logprobs");
                    if (lp.isArray()) window.tokens(stream, lp.size());
                }
            }
            window.finished();
        } catch (Exception e) {
            window.failed(new IllegalStateException("streaming client failed: " + e.getMessage(), e));
        }
    }
}
