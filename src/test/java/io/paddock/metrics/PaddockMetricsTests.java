package io.paddock.metrics;

import static io.paddock.testing.EngineTesting.awaitIdle;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.paddock.engine.EngineConfig;
import io.paddock.engine.EngineObserver;
import io.paddock.engine.FinishReason;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.engine.RequestRejectedException;
import io.paddock.loading.LoadedModel;
import io.paddock.model.DemoModel;
import io.paddock.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Observer events → meters, and the names Prometheus sees. */
class PaddockMetricsTests {
    private static final long MS = 1_000_000L;

    private final AtomicLong clock = new AtomicLong(1_000_000 * MS);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PaddockMetrics metrics = new PaddockMetrics(registry, clock::get);

    private static GenerationRequest request(String key, int promptTokens) {
        int[] prompt = new int[promptTokens];
        Arrays.fill(prompt, 1);
        return new GenerationRequest(prompt, 16, SamplingParams.greedy(), List.of(), false, key);
    }

    private double requests(String model, String key, String reason) {
        return registry.get("paddock.requests").tags("model", model, "key", key, "finish_reason", reason).counter()
                .count();
    }

    @Test
    void aRequestsEventsBecomeCountersAndHistograms() {
        EngineObserver o = metrics.observer("m");
        GenerationRequest r = request("team-a", 7);
        o.queued(r);
        o.scheduled(r, 30 * MS);
        o.firstToken(r, 1, 120 * MS);
        o.tokens(r, 1, 20 * MS);
        o.tokens(r, 2, 50 * MS); // two tokens in one emission: 25 ms each
        o.finished(r, FinishReason.LENGTH, 7, 4, 200 * MS);

        assertThat(registry.get("paddock.prompt.tokens").tags("model", "m", "key", "team-a").counter().count())
                .isEqualTo(7);
        assertThat(registry.get("paddock.generation.tokens").tags("model", "m", "key", "team-a").counter().count())
                .isEqualTo(4);
        assertThat(requests("m", "team-a", "length")).isEqualTo(1);
        assertThat(requests("m", "team-a", "stop")).isZero();
        var ttft = registry.get("paddock.time.to.first.token").tag("model", "m").timer();
        assertThat(ttft.count()).isEqualTo(1);
        assertThat(ttft.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(120);
        var itl = registry.get("paddock.inter.token.latency").tag("model", "m").timer();
        assertThat(itl.count()).isEqualTo(3);
        assertThat(itl.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(70);
        assertThat(registry.get("paddock.queue.wait").tag("model", "m").timer().totalTime(TimeUnit.MILLISECONDS))
                .isEqualTo(30);
        var duration = registry.get("paddock.request.duration").tags("model", "m", "finish_reason", "length").timer();
        assertThat(duration.count()).isEqualTo(1);
        assertThat(duration.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(200);
        assertThat(registry.get("paddock.request.prompt.tokens").tag("model", "m").summary().totalAmount())
                .isEqualTo(7);
        assertThat(registry.get("paddock.request.generation.tokens").tag("model", "m").summary().totalAmount())
                .isEqualTo(4);
    }

    @Test
    void failuresCancelsRejectionsStepsAndPreemptions() {
        EngineObserver o = metrics.observer("m");
        GenerationRequest r = request("k", 3);
        o.queued(r);
        o.failed(r, new IllegalStateException("kernel fault"), 3, 1, 5 * MS);
        o.failed(r, RequestRejectedException.overloaded("waited too long"), 3, 0, 7 * MS); // the queue deadline
        o.finished(r, FinishReason.CANCELLED, 3, 0, 5 * MS);
        o.rejected(r, RequestRejectedException.overloaded("busy"));
        metrics.rejected("m", "k");
        metrics.rejected("no-such-model", null);
        o.step(12 * MS, 3, 40);
        o.step(8 * MS, 1, 1);
        o.preempted(2);

        assertThat(requests("m", "k", "error")).isEqualTo(1);
        assertThat(requests("m", "k", "cancelled")).isEqualTo(1);
        assertThat(requests("m", "k", "rejected")).isEqualTo(3);
        assertThat(registry.get("paddock.request.duration").tags("model", "m", "finish_reason", "rejected").timer()
                .count()).isEqualTo(1);
        assertThat(requests(PaddockMetrics.UNKNOWN_MODEL, GenerationRequest.ANONYMOUS, "rejected")).isEqualTo(1);
        assertThat(registry.get("paddock.request.duration").tags("model", "m", "finish_reason", "error").timer()
                .count()).isEqualTo(1);
        var steps = registry.get("paddock.step.duration").tag("model", "m").timer();
        assertThat(steps.count()).isEqualTo(2);
        assertThat(steps.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(20);
        assertThat(registry.get("paddock.step.batch.size").tag("model", "m").summary().totalAmount()).isEqualTo(4);
        assertThat(registry.get("paddock.preemptions").tag("model", "m").counter().count()).isEqualTo(2);
    }

    @Test
    void keysAreBoundedAndRegisteredOnTheSubmittingThread() {
        EngineObserver o = metrics.observer("m");
        for (int i = 0; i < ModelMetrics.MAX_KEYS + 20; i++) o.queued(request("key-" + i, 1));
        Set<String> keys = registry.find("paddock.requests").tag("model", "m").counters().stream()
                .map(c -> c.getId().getTag("key")).collect(Collectors.toSet());
        assertThat(keys).hasSize(ModelMetrics.MAX_KEYS + 1).contains(ModelMetrics.OTHER_KEY, "key-0");
        int before = registry.getMeters().size();
        GenerationRequest late = request("key-" + (ModelMetrics.MAX_KEYS + 5), 2);
        o.scheduled(late, MS); // folded into "other", registering nothing new
        assertThat(registry.getMeters()).hasSize(before);
        assertThat(registry.get("paddock.prompt.tokens").tags("model", "m", "key", ModelMetrics.OTHER_KEY).counter()
                .count()).isEqualTo(2);
    }

    @Test
    void decodeThroughputIsTokensOverTheLastTenCompleteSeconds() {
        EngineObserver o = metrics.observer("m");
        GenerationRequest r = request("k", 1);
        var rate = registry.get("paddock.decode.tokens.per.second").tag("model", "m").gauge();
        for (int s = 0; s < 10; s++) {
            o.tokens(r, 50, MS);
            clock.addAndGet(1_000 * MS);
        }
        assertThat(rate.value()).isEqualTo(50.0);
        o.tokens(r, 1_000, MS); // this second is not complete yet
        assertThat(rate.value()).isEqualTo(50.0);
        clock.addAndGet(20_000 * MS);
        assertThat(rate.value()).isZero();
    }

    @Test
    void slidingRateSurvivesNegativeClocks() {
        AtomicLong t = new AtomicLong(-5_500 * MS);
        SlidingRate rate = new SlidingRate(2, t::get);
        rate.add(4);
        t.addAndGet(1_000 * MS);
        rate.add(6);
        t.addAndGet(1_000 * MS);
        assertThat(rate.perSecond()).isEqualTo(5.0);
    }

    @Test
    void gaugesReadTheEngineAndNoGpuNamesOnTheCpu(@TempDir Path cache) throws Exception {
        LoadedModel demo = LoadedModel.load(DemoModel.ID, DemoModel.DESCRIPTION, DemoModel.materialize(cache), 1);
        try (GenerationService g = new GenerationService(demo, new EngineConfig(16, 0, 2, 512, true, 4),
                metrics.observer(DemoModel.ID))) {
            metrics.bind(g);
            var r = g.submit(new GenerationRequest(demo.encodePrompt("hello there"), 5, SamplingParams.greedy(),
                    List.of(), true)).get(30, TimeUnit.SECONDS);
            awaitIdle(g);
            String m = DemoModel.ID;
            assertThat(registry.get("paddock.kv.cache.blocks").tag("model", m).functionCounter().count())
                    .isEqualTo(g.stats().blocksTotal()).isPositive();
            assertThat(registry.get("paddock.kv.cache.blocks.used").tag("model", m).gauge().value()).isZero();
            assertThat(registry.get("paddock.kv.cache.usage.ratio").tag("model", m).gauge().value()).isZero();
            assertThat(registry.get("paddock.requests.running").tag("model", m).gauge().value()).isZero();
            assertThat(registry.get("paddock.model.weights.bytes").tag("model", m).gauge().value())
                    .isEqualTo(demo.runtime().weightsBytes()).isPositive();
            assertThat(registry.get("paddock.kv.cache.bytes").tag("model", m).gauge().value())
                    .isEqualTo(g.kvCacheBytes()).isPositive();
            assertThat(registry.get("paddock.generation.tokens").tags("model", m, "key", "anonymous").counter()
                    .count()).isEqualTo(r.completionTokens());
            assertThat(registry.find("paddock.gpu.memory.used.bytes").meters()).isEmpty();
            assertThat(registry.find("paddock.gpu.memory.paddock.bytes").meters()).isEmpty();
        }
    }

    /** The exposed names are a contract (dashboards and alerts): Micrometer's base units must not change them. */
    @Test
    void prometheusNamesAreExactlyTheDocumentedOnes(@TempDir Path cache) throws Exception {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PaddockMetrics p = new PaddockMetrics(prometheus);
        LoadedModel demo = LoadedModel.load(DemoModel.ID, DemoModel.DESCRIPTION, DemoModel.materialize(cache), 1);
        try (GenerationService g = new GenerationService(demo, new EngineConfig(16, 0, 2, 512, true, 4),
                p.observer(DemoModel.ID))) {
            p.bind(g);
            g.submit(new GenerationRequest(demo.encodePrompt("hello"), 3, SamplingParams.greedy(), List.of(), true))
                    .get(30, TimeUnit.SECONDS);
            assertThat(names(prometheus)).isEqualTo(new TreeSet<>(List.of(
                    "paddock_prompt_tokens_total", "paddock_generation_tokens_total",
                    "paddock_prefix_cache_hit_tokens_total", "paddock_preemptions_total", "paddock_requests_total",
                    "paddock_requests_running", "paddock_requests_waiting", "paddock_kv_cache_blocks_total",
                    "paddock_kv_cache_blocks_used", "paddock_kv_cache_blocks_cached", "paddock_kv_cache_usage_ratio",
                    "paddock_decode_tokens_per_second", "paddock_model_weights_bytes", "paddock_kv_cache_bytes",
                    "paddock_time_to_first_token_seconds", "paddock_inter_token_latency_seconds",
                    "paddock_request_duration_seconds", "paddock_queue_wait_seconds", "paddock_step_duration_seconds",
                    "paddock_request_prompt_tokens", "paddock_request_generation_tokens",
                    "paddock_step_batch_size", "paddock_lora_adapters_loaded")));
        }
    }

    /** Family names in a scrape: samples without the histogram suffixes (and Micrometer's extra _max gauge). */
    static Set<String> names(PrometheusMeterRegistry r) {
        return r.scrape().lines().filter(l -> l.startsWith("paddock_")).map(l -> l.split("[{ ]")[0])
                .map(n -> n.replaceAll("_(bucket|count|sum|max)$", "")).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void requestsWithAnAdapterCountUnderItsNameAndStepsStayOnTheBase() {
        EngineObserver o = metrics.observer("base");
        GenerationRequest r = request("team-a", 5).withAdapter("sql");
        o.queued(r);
        o.scheduled(r, MS);
        o.firstToken(r, 1, 2 * MS);
        o.tokens(r, 2, 2 * MS);
        o.finished(r, FinishReason.STOP, 5, 3, 10 * MS);
        o.step(MS, 1, 1);
        assertThat(requests("sql", "team-a", "stop")).isEqualTo(1);
        assertThat(registry.get("paddock.generation.tokens").tags("model", "sql", "key", "team-a").counter().count())
                .isEqualTo(3);
        assertThat(registry.find("paddock.requests").tags("model", "base", "key", "team-a").counters()).isEmpty();
        assertThat(registry.get("paddock.step.duration").tag("model", "base").timer().count()).isEqualTo(1);
        assertThat(registry.get("paddock.step.duration").tag("model", "sql").timer().count()).isZero();
        metrics.rejected("sql", "team-a");
        assertThat(requests("sql", "team-a", "rejected")).isEqualTo(1);
    }
}
