package io.paddock.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.paddock.engine.EngineObserver;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * paddock's own meters ({@code paddock_*}, see docs/metrics.md) on a Micrometer registry: one {@link EngineObserver}
 * per model, gauges over each engine's snapshot, device memory where a GPU runtime reports it, and
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

    public PaddockMetrics(MeterRegistry registry) {
        this(registry, System::nanoTime);
    }

    PaddockMetrics(MeterRegistry registry, LongSupplier nanoClock) {
        this.registry = registry;
        this.nanoClock = nanoClock;
        this.devices = new DeviceMemoryMeters(registry);
    }

    /** The observer to give the engine of model {@code model} (one per model id). */
    public EngineObserver observer(String model) {
        return forModel(model);
    }

    /** Registers the gauges that read {@code service}'s engine state (call once the service is built). */
    public void bind(GenerationService service) {
        forModel(service.model().id()).bind(service);
        devices.bind(service);
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
        return models.computeIfAbsent(model, id -> new ModelMetrics(registry, id, nanoClock));
    }
}
