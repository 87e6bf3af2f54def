package io.paddock.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.paddock.engine.EngineObserver;
import io.paddock.engine.FinishReason;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.engine.RequestRejectedException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * paddock's own meters ({@code paddock_*}, see docs/metrics.md) on a Micrometer registry: one {@link EngineObserver}
 * per model (a request run with a LoRA adapter counts under the adapter's name), gauges over each engine's snapshot, device memory where a GPU runtime reports it, and
 * {@link #rejected(String, String)} for refusals the HTTP layer makes before a request reaches an engine. Plain
 * Micrometer, no Spring: the application wires it ({@code config.MetricsConfiguration}).
 */
public final class PaddockMetrics {
    /** The {@code model} tag of refusals naming a model this server does not serve (bounded, unlike the names). */
    public static final String UNKNOWN_MODEL = "unknown";

    private final MeterRegistry registry;
    private final LongSupplier nanoClock;
    private final Map<String, ModelMetrics> models = new ConcurrentHashMap<>();
    private final DeviceMemoryMeters devices;
    private final Map<String, Counter> unknownModelRejections = new ConcurrentHashMap<>(); // by key
    private final List<GenerationService> services = new CopyOnWriteArrayList<>();

    public PaddockMetrics(MeterRegistry registry) {
        this(registry, System::nanoTime);
    }

    PaddockMetrics(MeterRegistry registry, LongSupplier nanoClock) {
        this.registry = registry;
        this.nanoClock = nanoClock;
        this.devices = new DeviceMemoryMeters(registry);
    }

    /**
     * The observer to give the engine of model {@code model} (one per model id). Events of a request run with a LoRA
     * adapter go to the meters of the adapter's name (its requests, tokens and latencies); the engine's own events
     * (steps, preemptions) and gauges stay on the base model.
     */
    public EngineObserver observer(String model) {
        return new AdapterRouting(forModel(model));
    }

    /**
     * Registers the gauges that read {@code service}'s engine state (call once the service is built), among them
     * {@code paddock_lora_adapters_loaded}.
     */
    public void bind(GenerationService service) {
        forModel(service.model().id()).bind(service);
        Gauge.builder("paddock.lora.adapters.loaded", service, s -> s.adapters().list().size())
                .description("LoRA adapters served on this base model").tag("model", service.model().id())
                .register(registry);
        devices.bind(service);
        services.add(service);
    }

    /**
     * Counts a request the HTTP layer refused before handing it to an engine (bad parameters, unknown model, ...):
     * {@code paddock_requests_total{finish_reason="rejected"}}, once per HTTP request. Refusals thrown by the engine
     * itself (a full queue) are counted by the engine's observer; do not count those again. A model this server does
     * not serve (or null) is tagged {@value #UNKNOWN_MODEL}; a null key is the anonymous client.
     */
    public void rejected(String model, String key) {
        String k = key == null ? GenerationRequest.ANONYMOUS : key;
        ModelMetrics m = model == null ? null : models.get(model);
        if (m == null && model != null && servedAdapter(model)) m = forModel(model);
        if (m != null) {
            m.rejected(k);
            return;
        }
        if (!unknownModelRejections.containsKey(k) && unknownModelRejections.size() >= ModelMetrics.MAX_KEYS) {
            k = ModelMetrics.OTHER_KEY;
        }
        unknownModelRejections.computeIfAbsent(k, this::unknownModelCounter).increment();
    }

    private Counter unknownModelCounter(String key) {
        return Counter.builder("paddock.requests").description(ModelMetrics.REQUESTS_DESCRIPTION)
                .tag("model", UNKNOWN_MODEL).tag("key", key)
                .tag("finish_reason", "rejected").register(registry);
    }

    private ModelMetrics forModel(String model) {
        ModelMetrics m = models.get(model); // a plain read first: computeIfAbsent may lock a bin
        return m != null ? m : models.computeIfAbsent(model, id -> new ModelMetrics(registry, id, nanoClock));
    }

    private boolean servedAdapter(String name) {
        for (GenerationService s : services) if (s.adapters().find(name).isPresent()) return true;
        return false;
    }

    /**
     * One engine's observer: request events to the meters of the request's adapter (registered when it is queued or
     * refused, on the submitting thread, so the engine thread only finds them), everything else to the base's.
     */
    private final class AdapterRouting implements EngineObserver {
        private final ModelMetrics base;

        AdapterRouting(ModelMetrics base) {
            this.base = base;
        }

        private ModelMetrics of(GenerationRequest r) {
            return r.adapter() == null ? base : forModel(r.adapter());
        }

        @Override public void queued(GenerationRequest r) { of(r).queued(r); }

        @Override public void rejected(GenerationRequest r, RequestRejectedException reason) { of(r).rejected(r, reason); }

        @Override public void scheduled(GenerationRequest r, long queueNanos) { of(r).scheduled(r, queueNanos); }

        @Override public void firstToken(GenerationRequest r, int count, long sinceArrivalNanos) {
            of(r).firstToken(r, count, sinceArrivalNanos);
        }

        @Override public void tokens(GenerationRequest r, int count, long sinceLastNanos) {
            of(r).tokens(r, count, sinceLastNanos);
        }

        @Override public void finished(GenerationRequest r, FinishReason reason, int prompt, int generated,
                long totalNanos) {
            of(r).finished(r, reason, prompt, generated, totalNanos);
        }

        @Override public void failed(GenerationRequest r, RuntimeException error, int prompt, int generated,
                long totalNanos) {
            of(r).failed(r, error, prompt, generated, totalNanos);
        }

        @Override public void step(long nanos, int batchSize, int tokens) { base.step(nanos, batchSize, tokens); }

        @Override public void preempted(int count) { base.preempted(count); }
    }
}
