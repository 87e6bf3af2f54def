package io.paddock.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.bench.PrometheusText;
import io.paddock.bench.PrometheusText.Sample;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The real server on the demo model: a plain and a streamed completion, then {@code GET /metrics} shows every
 * documented engine metric with values that agree with what the clients were told.
 */
// Its own application context (the property is otherwise unused): the counters start at zero for these assertions.
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.application.name=paddock-scrape-it")
class PrometheusScrapeIT {
    private static final String MODEL = "paddock-demo-random";

    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<Sample> parse(String text) {
        return PrometheusText.parse(text).samples();
    }

    private static double sum(List<Sample> samples, String name, Map<String, String> match) {
        return new PrometheusText(samples).sum(name, match);
    }

    @Test
    void theScrapeAgreesWithTheCompletionsServed() throws Exception {
        var plain = post("/v1/completions", """
                {"prompt":"hello there","max_tokens":6,"seed":1,"ignore_eos":true}""");
        assertThat(plain.statusCode()).isEqualTo(200);
        JsonNode usage = json.readTree(plain.body()).get("usage");
        int completionTokens = usage.get("completion_tokens").asInt();
        int promptTokens = usage.get("prompt_tokens").asInt();

        var streamed = post("/v1/completions", """
                {"prompt":"once upon a time","max_tokens":5,"seed":2,"ignore_eos":true,"stream":true,
                 "stream_options":{"include_usage":true}}""");
        assertThat(streamed.statusCode()).isEqualTo(200);
        JsonNode last = null;
        for (String line : streamed.body().lines().toList()) {
            if (line.startsWith("data: {")) {
                JsonNode chunk = json.readTree(line.substring(6));
                if (chunk.hasNonNull("usage")) last = chunk;
            }
        }
        assertThat(last).as("usage chunk").isNotNull();
        completionTokens += last.get("usage").get("completion_tokens").asInt();
        promptTokens += last.get("usage").get("prompt_tokens").asInt();
        assertThat(completionTokens).isEqualTo(11);

        var scrape = get("/metrics");
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        List<Sample> samples = parse(scrape.body());
        Set<String> names = samples.stream().map(Sample::name).collect(Collectors.toCollection(TreeSet::new));

        assertThat(names).contains("paddock_prompt_tokens_total", "paddock_generation_tokens_total",
                "paddock_prefix_cache_hit_tokens_total", "paddock_preemptions_total", "paddock_requests_total",
                "paddock_requests_running", "paddock_requests_waiting", "paddock_kv_cache_blocks_total",
                "paddock_kv_cache_blocks_used", "paddock_kv_cache_blocks_cached", "paddock_kv_cache_usage_ratio",
                "paddock_decode_tokens_per_second", "paddock_model_weights_bytes", "paddock_kv_cache_bytes",
                "paddock_time_to_first_token_seconds_bucket", "paddock_inter_token_latency_seconds_bucket",
                "paddock_request_duration_seconds_bucket", "paddock_queue_wait_seconds_bucket",
                "paddock_step_duration_seconds_bucket", "paddock_request_prompt_tokens_bucket",
                "paddock_request_generation_tokens_bucket", "paddock_step_batch_size_bucket",
                "paddock_time_to_first_token_seconds_count", "paddock_time_to_first_token_seconds_sum",
                "http_server_requests_seconds_count", "jvm_memory_used_bytes", "process_cpu_usage");
        assertThat(names).noneMatch(n -> n.startsWith("paddock_gpu_"));

        Map<String, String> model = Map.of("model", MODEL);
        Map<String, String> anonymous = Map.of("model", MODEL, "key", "anonymous");
        assertThat(sum(samples, "paddock_generation_tokens_total", anonymous)).isEqualTo(completionTokens);
        assertThat(sum(samples, "paddock_prompt_tokens_total", anonymous)).isEqualTo(promptTokens);
        assertThat(sum(samples, "paddock_requests_total",
                Map.of("model", MODEL, "key", "anonymous", "finish_reason", "length"))).isEqualTo(2);
        assertThat(sum(samples, "paddock_requests_total",
                Map.of("model", MODEL, "finish_reason", "error"))).isZero();
        assertThat(sum(samples, "paddock_request_generation_tokens_sum", model)).isEqualTo(completionTokens);
        assertThat(sum(samples, "paddock_request_generation_tokens_count", model)).isEqualTo(2);
        assertThat(sum(samples, "paddock_time_to_first_token_seconds_count", model)).isEqualTo(2);
        assertThat(sum(samples, "paddock_inter_token_latency_seconds_count", model)).isEqualTo(completionTokens - 2);
        assertThat(sum(samples, "paddock_request_duration_seconds_count",
                Map.of("model", MODEL, "finish_reason", "length"))).isEqualTo(2);
        assertThat(sum(samples, "paddock_time_to_first_token_seconds_bucket",
                Map.of("model", MODEL, "le", "+Inf"))).isEqualTo(2);
        assertThat(sum(samples, "paddock_kv_cache_blocks_total", model)).isPositive();
        assertThat(sum(samples, "paddock_kv_cache_blocks_used", model)).isZero();
        assertThat(sum(samples, "paddock_requests_running", model)).isZero();
        assertThat(sum(samples, "paddock_kv_cache_usage_ratio", model)).isZero();
        assertThat(sum(samples, "paddock_model_weights_bytes", model)).isPositive();
        assertThat(sum(samples, "paddock_kv_cache_bytes", model)).isPositive();
        // Templated URIs only.
        assertThat(samples.stream().filter(s -> s.name().startsWith("http_server_requests_seconds"))
                .map(s -> s.labels().get("uri"))).contains("/v1/completions").allMatch(u -> !u.contains("?"));

        var actuator = get("/actuator/prometheus");
        assertThat(actuator.statusCode()).isEqualTo(200);
        assertThat(actuator.body()).contains("paddock_generation_tokens_total");
        assertThat(get("/health").body()).contains("ok");
        assertThat(get("/ready").statusCode()).isEqualTo(200);

        var openMetrics = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics"))
                .header("Accept", "application/openmetrics-text; version=1.0.0").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(openMetrics.headers().firstValue("Content-Type").orElse(""))
                .startsWith("application/openmetrics-text");
        assertThat(openMetrics.body()).contains("paddock_kv_cache_blocks_total{").endsWith("# EOF\n");
    }

    @Test
    void refusalsOfTheHttpLayerCountAsRejectedOnce() throws Exception {
        Map<String, String> rejected = Map.of("model", MODEL, "finish_reason", "rejected");
        Map<String, String> unknown = Map.of("model", "unknown", "finish_reason", "rejected");
        List<Sample> before = parse(get("/metrics").body());
        assertThat(post("/v1/completions", "{\"prompt\":\"a\",\"max_tokenz\":2}").statusCode()).isEqualTo(400);
        assertThat(post("/v1/chat/completions", "{\"model\":\"" + MODEL + "\",\"messages\":[]}").statusCode())
                .isEqualTo(400);
        assertThat(post("/v1/completions", "{\"model\":\"nope\",\"prompt\":\"a\"}").statusCode()).isEqualTo(404);
        List<Sample> after = parse(get("/metrics").body());
        assertThat(sum(after, "paddock_requests_total", rejected) - sum(before, "paddock_requests_total", rejected))
                .isEqualTo(2);
        assertThat(sum(after, "paddock_requests_total", unknown) - sum(before, "paddock_requests_total", unknown))
                .isEqualTo(1);
    }
}
