package io.paddock.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.paddock.engine.GenerationService;
import io.paddock.runtime.DeviceMemoryReport;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * {@code paddock_gpu_memory_*{device}}: the device's used and total memory (cuMemGetInfo) and what paddock holds on
 * it by use, summed over the models on that device. Registered only for engines whose runtime reports device memory,
 * so on the CPU these names are absent rather than zero. Values come from the engines' own samples (taken on their
 * threads, where the device context lives), never from a driver call on the scrape thread.
 */
final class DeviceMemoryMeters {
    private final MeterRegistry registry;
    private final Map<String, List<GenerationService>> byDevice = new ConcurrentHashMap<>();

    DeviceMemoryMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Adds {@code service}'s device, if its runtime has one. */
    void bind(GenerationService service) {
        Optional<DeviceMemoryReport> now = service.deviceMemory();
        if (now.isEmpty()) return;
        String device = now.get().device();
        byDevice.computeIfAbsent(device, this::register).add(service);
    }

    private List<GenerationService> register(String device) {
        List<GenerationService> services = new CopyOnWriteArrayList<>();
        gauge("paddock.gpu.memory.used.bytes", "Device memory in use (all processes; total - free)", device, null,
                () -> first(services, DeviceMemoryReport::usedBytes));
        gauge("paddock.gpu.memory.total.bytes", "Device memory", device, null,
                () -> first(services, DeviceMemoryReport::totalBytes));
        gauge("paddock.gpu.memory.paddock.bytes", "Device memory paddock holds, by use", device, "weights",
                () -> sum(services, DeviceMemoryReport::weightsBytes));
        gauge("paddock.gpu.memory.paddock.bytes", "Device memory paddock holds, by use", device, "kv_cache",
                () -> sum(services, DeviceMemoryReport::kvCacheBytes));
        gauge("paddock.gpu.memory.paddock.bytes", "Device memory paddock holds, by use", device, "scratch",
                () -> sum(services, DeviceMemoryReport::scratchBytes));
        return services;
    }

    private void gauge(String name, String description, String device, String use,
            Supplier<Number> value) {
        Gauge.Builder<Supplier<Number>> b = Gauge.builder(name, value).description(description)
                .tag("device", device);
        if (use != null) b = b.tag("use", use);
        b.register(registry);
    }

    /** The device-wide figure from the newest sample among the services on the device. */
    private static double first(List<GenerationService> services, ToLongFunction<DeviceMemoryReport> f) {
        for (GenerationService s : services) {
            Optional<DeviceMemoryReport> r = s.deviceMemory();
            if (r.isPresent()) return f.applyAsLong(r.get());
        }
        return Double.NaN;
    }

    private static double sum(List<GenerationService> services, ToLongFunction<DeviceMemoryReport> f) {
        long total = 0;
        for (GenerationService s : services) {
            Optional<DeviceMemoryReport> r = s.deviceMemory();
            if (r.isPresent()) total += f.applyAsLong(r.get());
        }
        return total;
    }
}
