package io.paddock.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.paddock.testing.SharedModels;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.StartupCheckStrategy;

/**
 * The real container image (top-level Dockerfile) run as a user would run it: stories260K mounted under /models,
 * settings from the environment, driven by the official OpenAI Java client; then SIGTERM drain and a bad model.
 * Host networking throughout: these machines refuse traffic to the bridge network's private addresses.
 * Skips, saying why, without Docker, the base images or the model fixture (see {@link PaddockImage}).
 */
class ContainerIT {
    private static final Duration READY_WITHIN = Duration.ofSeconds(90);
    private static final Duration DRAIN = Duration.ofSeconds(10);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<GenericContainer<?>> started = new ArrayList<>();

    @AfterEach
    void stopAll() {
        started.forEach(GenericContainer::stop);
    }

    @Test
    void servesChatStreamingAndMetricsWithAMountedModel() throws Exception {
        int port = freePort();
        GenericContainer<?> c = start(serving(port));
        awaitReady(c, port);

        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl("http://localhost:" + port + "/v1")
                .apiKey("not-needed").maxRetries(0).build();
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("stories260K")
                .addUserMessage("Tell me a story.").maxCompletionTokens(12).temperature(0.0).build();
        ChatCompletion whole = client.chat().completions().create(params);
        String text = whole.choices().getFirst().message().content().orElseThrow();
        assertThat(text).isNotBlank();
        assertThat(whole.model()).isEqualTo("stories260K");

        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append)));
        }
        assertThat(streamed.toString()).isEqualTo(text);

        HttpResponse<String> metrics = get(port, "/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body().lines().filter(l -> l.startsWith("paddock_generation_tokens_total")))
                .as("a paddock_generation_tokens_total sample").isNotEmpty()
                .anySatisfy(l -> assertThat(Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).isPositive());
        assertThat(get(port, "/health").statusCode()).isEqualTo(200);
        assertThat(c.getContainerInfo().getConfig().getUser()).isEqualTo("10001");
    }

    @Test
    void sigtermDrainsAnInFlightStreamAndExitsZero() throws Exception {
        int port = freePort();
        GenericContainer<?> c = start(serving(port).withEnv("PADDOCK_DRAIN_TIMEOUT", DRAIN.toSeconds() + "s"));
        awaitReady(c, port);

        String body = """
                {"model":"stories260K","stream":true,"max_tokens":400,"temperature":1.0,"seed":7,
                 "messages":[{"role":"user","content":"Tell me a long story."}]}""";
        HttpResponse<InputStream> stream = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                        + "/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.statusCode()).isEqualTo(200);
        List<String> data = new ArrayList<>();
        CompletableFuture<Long> stopped;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
            String first = nextData(r);
            assertThat(first).as("the first chunk of the stream").isNotNull();
            data.add(first);
            // docker stop: SIGTERM, then SIGKILL only after a grace period well beyond the drain timeout.
            long[] stopAt = {0};
            stopped = CompletableFuture.supplyAsync(() -> {
                long t0 = System.nanoTime();
                stopAt[0] = t0;
                c.getDockerClient().stopContainerCmd(c.getContainerId()).withTimeout((int) DRAIN.toSeconds() * 3).exec();
                return (System.nanoTime() - t0) / 1_000_000;
            });
            for (String d; (d = nextData(r)) != null; ) data.add(d);
            long endedAt = System.nanoTime();
            System.out.println("ContainerIT drain: the stream ended " + (stopAt[0] == 0 ? "before docker stop began"
                    : (endedAt - stopAt[0]) / 1_000_000 + " ms after docker stop began"));
        }
        long stopMillis = stopped.get();
        System.out.println("ContainerIT drain: stream of " + data.size() + " events, container stopped in " + stopMillis + " ms");
        assertThat(data.getLast()).as("the in-flight stream ends normally").isEqualTo("[DONE]");
        assertThat(data).as("no chunk is an error (a stream cut by the shutdown would end with one)")
                .noneMatch(d -> d.startsWith("{\"error\""));
        assertThat(data.get(data.size() - 2)).as("the last chunk before [DONE] finishes the choice")
                .containsAnyOf("\"finish_reason\":\"length\"", "\"finish_reason\":\"stop\"");
        assertThat(stopMillis).as("stopped within the drain timeout").isLessThan(DRAIN.toMillis() + 5_000);
        var state = c.getDockerClient().inspectContainerCmd(c.getContainerId()).exec().getState();
        assertThat(state.getRunning()).isFalse();
        assertThat(state.getExitCodeLong()).as("exit code after a drained SIGTERM").isZero();
    }

    @Test
    void aBadModelDirectoryStopsStartUpNamingTheMissingFile(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("broken");
        Files.createDirectories(model);
        Files.copy(SharedModels.require("stories260K").resolve("config.json"), model.resolve("config.json"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(model, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(model.resolve("config.json"), PosixFilePermissions.fromString("rw-r--r--"));

        GenericContainer<?> c = start(new GenericContainer<>(PaddockImage.require()).withNetworkMode("host")
                .withFileSystemBind(model.toString(), "/models/broken", BindMode.READ_ONLY)
                .withEnv("PADDOCK_MODEL_PATH", "/models/broken").withEnv("SERVER_PORT", String.valueOf(freePort())));
        long deadline = System.nanoTime() + READY_WITHIN.toNanos();
        var state = c.getDockerClient().inspectContainerCmd(c.getContainerId()).exec().getState();
        while (Boolean.TRUE.equals(state.getRunning()) && System.nanoTime() < deadline) {
            Thread.sleep(250);
            state = c.getDockerClient().inspectContainerCmd(c.getContainerId()).exec().getState();
        }
        String logs = c.getLogs();
        assertThat(state.getRunning()).as("the container exits; log:\n%s", logs).isFalse();
        assertThat(state.getExitCodeLong()).as("exit code; log:\n%s", logs).isNotZero();
        assertThat(logs).as("the log names a missing file").containsAnyOf("tokenizer.model", "tokenizer.json", ".safetensors");
        assertThat(logs).contains("/models/broken");
    }

    /** The image with stories260K mounted read-only, everything set through the environment. */
    private static GenericContainer<?> serving(int port) {
        String image = PaddockImage.require();
        Path model = SharedModels.require("stories260K");
        return new GenericContainer<>(image).withNetworkMode("host")
                .withFileSystemBind(model.toString(), "/models/stories260K", BindMode.READ_ONLY)
                .withEnv("PADDOCK_MODEL_PATH", "/models/stories260K")
                .withEnv("SERVER_PORT", String.valueOf(port))
                .withEnv("PADDOCK_RUNTIME", "cpu")
                .withEnv("JAVA_OPTS", "-XX:ActiveProcessorCount=2");
    }

    /** Started without a wait strategy (host networking maps no ports): readiness is polled on /ready. */
    private GenericContainer<?> start(GenericContainer<?> c) {
        c.withStartupCheckStrategy(new StartupCheckStrategy() {
            @Override
            public StartupStatus checkStartupState(com.github.dockerjava.api.DockerClient client, String id) {
                return StartupStatus.SUCCESSFUL; // a container that exits at once is what one test wants to see
            }
        });
        started.add(c);
        c.start();
        return c;
    }

    private void awaitReady(GenericContainer<?> c, int port) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + READY_WITHIN.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (get(port, "/ready").statusCode() == 200) {
                    System.out.println("ContainerIT ready in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            var state = c.getDockerClient().inspectContainerCmd(c.getContainerId()).exec().getState();
            if (!Boolean.TRUE.equals(state.getRunning())) {
                throw new AssertionError("the container exited (" + state.getExitCodeLong() + ") before ready:\n" + c.getLogs());
            }
            Thread.sleep(250);
        }
        throw new AssertionError("not ready within " + READY_WITHIN + ":\n" + c.getLogs());
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The next SSE {@code data:} payload, or null at the end of the stream. */
    private static String nextData(BufferedReader r) throws IOException {
        for (String line; (line = r.readLine()) != null; ) {
            if (line.startsWith("data:")) return line.substring(5).strip();
        }
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
