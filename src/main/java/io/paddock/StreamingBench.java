package io.paddock;

import io.paddock.bench.DecodeWindow;
import io.paddock.bench.Stats;
import io.paddock.cli.CliArgs;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.engine.ModelRegistry;
import io.paddock.sampling.SamplingParams;
import java.io.BufferedReader;
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
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * {@code paddock bench streaming --model DIR}: the decode rate streaming HTTP clients see versus the engine's own
 * rate, side by side in one process. Starts the real server on a free port; each round runs N requests straight on
 * the engine, then the same N requests as concurrent {@code stream: true} HTTP clients reading SSE (with
 * {@code logprobs: 0}, so every token is counted even where its text is held back); both are timed over the
 * full-batch decode window ({@link DecodeWindow}).
 */
final class StreamingBench {
    private StreamingBench() {}

    static int run(String[] argv, PrintStream out) {
        CliArgs a = new CliArgs(argv, Set.of("model", "concurrency", "tokens", "prompt-tokens", "rounds", "threads"), Set.of());
        String model = a.string("model", null);
        if (model == null) throw new CliArgs.UsageException("bench streaming needs --model DIR");
        int steps = a.integer("tokens", 64), promptTokens = a.integer("prompt-tokens", 16), rounds = a.integer("rounds", 5);
        List<Integer> levels = Arrays.stream(a.string("concurrency", "1,16").split(",")).map(String::trim)
                .map(Integer::parseInt).toList();
        List<String> args = new ArrayList<>(List.of("--server.port=0", "--paddock.model.path=" + model,
                "--logging.level.root=WARN", "--paddock.engine.max-num-seqs=" + Math.max(16, levels.stream().max(Integer::compare).orElse(1))));
        if (a.integer("threads", null) != null) args.add("--paddock.model.threads=" + a.integer("threads", null));
        try (ConfigurableApplicationContext ctx = new SpringApplication(PaddockApplication.class).run(args.toArray(String[]::new));
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            int port = Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port"));
            GenerationService service = ctx.getBean(ModelRegistry.class).defaultService();
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

    private static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    /** One streaming client: counts the tokens of each chunk as it arrives. */
    private static void streamOne(HttpClient http, int port, String model, int[] prompt, int maxTokens, int stream,
            DecodeWindow window) {
        String body = "{\"model\":\"" + model + "\",\"prompt\":" + Arrays.stream(prompt).mapToObj(Integer::toString)
                .collect(Collectors.joining(",", "[", "]")) + ",\"max_tokens\":" + maxTokens
                + ",\"temperature\":0,\"ignore_eos\":true,\"stream\":true,\"logprobs\":0}";
        try {
            HttpResponse<java.io.InputStream> res = http.send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + port + "/v1/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.startsWith("data:") || line.contains("[DONE]")) continue;
                    // logprobs: 0 makes every token visible (even one whose text is held back or empty).
                    var lp = JSON.readTree(line.substring(5)).path("choices").path(0).path("logprobs").path("token_logprobs");
                    if (lp.isArray()) window.tokens(stream, lp.size());
                }
            }
            window.finished();
        } catch (Exception e) {
            window.failed(new IllegalStateException("streaming client failed: " + e.getMessage(), e));
        }
    }
}
