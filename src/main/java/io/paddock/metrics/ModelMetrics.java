package io.paddock.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.paddock.engine.EngineObserver;
import io.paddock.engine.EngineStats;
import io.paddock.engine.FinishReason;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.engine.RequestRejectedException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;

/**
 * One model's engine meters, tagged {@code model}, and the {@link EngineObserver} that feeds them. Every meter is
 * registered before the engine calls in (per model at construction, per key when a request of that key is queued
 * or refused on the submitting thread), so the engine thread only finds and increments: lock-free adders, no
 * registration, no allocation per token.
 */
final class ModelMetrics implements EngineObserver {
    /** Keys beyond this many distinct names per model share the key {@value #OTHER_KEY}. */
    static final int MAX_KEYS = 100;
    static final String OTHER_KEY = "other";
    /** The window {@code paddock_decode_tokens_per_second} averages over. */
    static final int RATE_WINDOW_SECONDS = 10;
    static final String REQUESTS_DESCRIPTION = "Requests by how they ended (a request with n choices counts n)";

    /** Meters tagged by key: counts per client. */
    private record KeyMeters(Counter promptTokens, Counter generationTokens, Counter[] requests) {
        Counter requests(Outcome o) { return requests[o.ordinal()]; }
    }

    private final MeterRegistry registry;
    private final String model;
    private final Tags tags;
    private final Map<String, KeyMeters> keys = new ConcurrentHashMap<>();
    private final Timer timeToFirstToken, interTokenLatency, queueWait, stepDuration;
    private final Timer[] requestDuration; // by Outcome ordinal; REJECTED only for requests the engine queued
    private final DistributionSummary promptTokens, generationTokens, batchSize;
    private final Counter preemptions;
    private final SlidingRate decodeRate;

    ModelMetrics(MeterRegistry registry, String model, LongSupplier nanoClock) {
        this.registry = registry;
        this.model = model;
        this.tags = Tags.of("model", model);
        this.timeToFirstToken = timer("paddock.time.to.first.token",
                "Time from submission to the first output token", Buckets.LATENCY);
        this.interTokenLatency = timer("paddock.inter.token.latency",
                "Time per output token after the first (time between emissions / tokens emitted)", Buckets.STEP);
        this.queueWait = timer("paddock.queue.wait", "Time from submission to first being scheduled",
                Buckets.LATENCY);
        this.stepDuration = timer("paddock.step.duration",
                "Engine step time: schedule, forward pass, sampling and output", Buckets.STEP);
        this.requestDuration = new Timer[Outcome.values().length];
        for (Outcome o : Outcome.values()) {
            requestDuration[o.ordinal()] = Timer.builder("paddock.request.duration")
                    .description("End-to-end request time from submission to its end")
                    .tags(tags).tag("finish_reason", o.tag).serviceLevelObjectives(Buckets.LATENCY)
                    .register(registry);
        }
        this.promptTokens = summary("paddock.request.prompt.tokens", "Prompt tokens per finished request");
        this.generationTokens = summary("paddock.request.generation.tokens", "Output tokens per finished request");
        this.batchSize = DistributionSummary.builder("paddock.step.batch.size")
                .description("Sequences per engine step").tags(tags).serviceLevelObjectives(Buckets.BATCH)
                .register(registry);
        this.preemptions = Counter.builder("paddock.preemptions")
                .description("Running sequences that lost their KV blocks and will be recomputed").tags(tags)
                .register(registry);
        this.decodeRate = new SlidingRate(RATE_WINDOW_SECONDS, nanoClock);
        Gauge.builder("paddock.decode.tokens.per.second", decodeRate::perSecond)
                .description("Output tokens generated per second over the last " + RATE_WINDOW_SECONDS + " s")
                .tags(tags).register(registry);
        keyMeters(GenerationRequest.ANONYMOUS); // zeros from the start, so rate() has a baseline
    }

    String model() { return model; }

    private Timer timer(String name, String description, Duration[] buckets) {
        return Timer.builder(name).description(description).tags(tags).serviceLevelObjectives(buckets)
                .register(registry);
    }

    private DistributionSummary summary(String name, String description) {
        return DistributionSummary.builder(name).description(description).tags(tags)
                .serviceLevelObjectives(Buckets.TOKENS).register(registry);
    }

    /** The meters of {@code key}, registered on first sight; past {@link #MAX_KEYS} keys, those of "other". */
    private KeyMeters keyMeters(String key) {
        KeyMeters m = keys.get(key);
        if (m != null) return m;
        if (keys.size() >= MAX_KEYS) {
            m = keys.get(OTHER_KEY); // a plain read: computeIfAbsent may lock a bin even when the key is there
            if (m != null) return m;
            key = OTHER_KEY;
        }
        return keys.computeIfAbsent(key, this::register);
    }

    private KeyMeters register(String key) {
        Tags t = tags.and("key", key);
        Counter[] requests = new Counter[Outcome.values().length];
        for (Outcome o : Outcome.values()) {
            requests[o.ordinal()] = Counter.builder("paddock.requests")
                    .description(REQUESTS_DESCRIPTION)
                    .tags(t).tag("finish_reason", o.tag).register(registry);
        }
        return new KeyMeters(
                Counter.builder("paddock.prompt.tokens").description("Prompt tokens of requests that were scheduled")
                        .tags(t).register(registry),
                Counter.builder("paddock.generation.tokens").description("Output tokens handed to clients")
                        .tags(t).register(registry),
                requests);
    }

    /**
     * Gauges over the engine's volatile {@link EngineStats} snapshot and memory figures, and the prefix-cache
     * counter; read at scrape time, never by the engine thread.
     */
    void bind(GenerationService service) {
        gauge("paddock.requests.running", "Sequences in the running batch", service, s -> s.stats().running());
        gauge("paddock.requests.waiting", "Requests waiting to be scheduled (preempted ones included)", service,
                s -> s.stats().waiting());
        // A gauge may not end in _total in the Prometheus client (the suffix is kept for counters), so the pool size,
        // which is fixed for the engine's life, is a counter that never moves: paddock_kv_cache_blocks_total.
        FunctionCounter.builder("paddock.kv.cache.blocks", service, s -> s.stats().blocksTotal())
                .description("KV-cache blocks in the pool (fixed at start)").tags(tags).register(registry);
        gauge("paddock.kv.cache.blocks.used", "KV-cache blocks held by live sequences", service,
                s -> s.stats().blocksUsed());
        gauge("paddock.kv.cache.blocks.cached", "Free KV-cache blocks still holding a reusable prefix", service,
                s -> s.stats().blocksCached());
        gauge("paddock.kv.cache.usage.ratio", "Share of the KV-cache blocks held by live sequences (0 to 1)", service,
                s -> usage(s.stats()));
        gauge("paddock.model.weights.bytes", "Bytes of model weights in the runtime", service,
                GenerationService::weightsBytes);
        gauge("paddock.kv.cache.bytes", "Bytes of the KV-cache pool", service, GenerationService::kvCacheBytes);
        FunctionCounter.builder("paddock.prefix.cache.hit.tokens", service, s -> s.stats().prefixHitTokens())
                .description("Prompt tokens whose KV came from the prefix cache instead of being computed")
                .tags(tags).register(registry);
    }

    private static double usage(EngineStats st) {
        return st.blocksTotal() == 0 ? 0 : st.blocksUsed() / (double) st.blocksTotal();
    }

    private void gauge(String name, String description, GenerationService service,
            ToDoubleFunction<GenerationService> value) {
        Gauge.builder(name, () -> value.applyAsDouble(service)).description(description).tags(tags)
                .register(registry);
    }

    /** A refusal before the engine (the HTTP layer's own checks). */
    void rejected(String key) {
        keyMeters(key).requests(Outcome.REJECTED).increment();
    }

    // ---- EngineObserver: queued and rejected on the submitting thread, the rest on the engine thread ----

    @Override
    public void queued(GenerationRequest request) {
        keyMeters(request.client());
    }

    @Override
    public void rejected(GenerationRequest request, RequestRejectedException reason) {
        rejected(request.client());
    }

    @Override
    public void scheduled(GenerationRequest request, long queueNanos) {
        queueWait.record(queueNanos, TimeUnit.NANOSECONDS);
        keyMeters(request.client()).promptTokens().increment(request.promptIds().length);
    }

    @Override
    public void firstToken(GenerationRequest request, int count, long sinceArrivalNanos) {
        timeToFirstToken.record(sinceArrivalNanos, TimeUnit.NANOSECONDS);
        generated(request, count);
    }

    @Override
    public void tokens(GenerationRequest request, int count, long sinceLastNanos) {
        long perToken = sinceLastNanos / count;
        for (int i = 0; i < count; i++) interTokenLatency.record(perToken, TimeUnit.NANOSECONDS);
        generated(request, count);
    }

    private void generated(GenerationRequest request, int count) {
        keyMeters(request.client()).generationTokens().increment(count);
        decodeRate.add(count);
    }

    @Override
    public void finished(GenerationRequest request, FinishReason reason, int prompt, int generated, long totalNanos) {
        ended(request, Outcome.of(reason), prompt, generated, totalNanos);
    }

    /** A late refusal by the engine (queue deadline, end of a drain) is {@code rejected}; anything else an error. */
    @Override
    public void failed(GenerationRequest request, RuntimeException error, int prompt, int generated,
            long totalNanos) {
        Outcome outcome = error instanceof RequestRejectedException ? Outcome.REJECTED : Outcome.ERROR;
        ended(request, outcome, prompt, generated, totalNanos);
    }

    private void ended(GenerationRequest request, Outcome outcome, int prompt, int generated, long totalNanos) {
        keyMeters(request.client()).requests(outcome).increment();
        requestDuration[outcome.ordinal()].record(totalNanos, TimeUnit.NANOSECONDS);
        promptTokens.record(prompt);
        generationTokens.record(generated);
    }

    @Override
    public void step(long nanos, int batch, int tokens) {
        stepDuration.record(nanos, TimeUnit.NANOSECONDS);
        batchSize.record(batch);
    }

    @Override
    public void preempted(int count) {
        preemptions.increment(count);
    }
}
