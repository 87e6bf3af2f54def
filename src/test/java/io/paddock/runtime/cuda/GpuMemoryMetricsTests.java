package io.paddock.runtime.cuda;

import static io.paddock.testing.EngineTesting.awaitIdle;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.paddock.engine.EngineConfig;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.loading.LoadedModel;
import io.paddock.metrics.PaddockMetrics;
import io.paddock.model.GptqOverrides;
import io.paddock.runtime.DeviceMemoryReport;
import io.paddock.sampling.SamplingParams;
import io.paddock.testing.SharedModels;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The CUDA runtime's memory report (cuMemGetInfo and its own allocations by use) and the paddock_gpu_memory_* gauges
 * built on it, on the simulated device (or a real one where present).
 */
class GpuMemoryMetricsTests {
    private static final String MODEL = "stories260K";

    @Test
    void theRuntimeReportsTheDeviceAndItsShareByUse() {
        try (LoadedModel m = LoadedModel.load(MODEL, "test", SharedModels.require(MODEL), GptqOverrides.NONE, 1,
                (weights, parallel) -> CudaTesting.runtime(weights))) {
            CudaRuntime rt = (CudaRuntime) m.runtime();
            DeviceMemoryReport before = rt.deviceMemory().orElseThrow();
            assertThat(before.device()).isEqualTo("0");
            assertThat(before.weightsBytes()).isEqualTo(rt.weightsBytes()).isEqualTo(rt.memoryPlan().weightBytes());
            assertThat(before.scratchBytes()).isPositive();
            assertThat(before.kvCacheBytes()).isZero();
            rt.reserveStep(64, 4, 16);
            CudaKvStore kv = rt.newKvStore(8, 16);
            DeviceMemoryReport after = rt.deviceMemory().orElseThrow();
            assertThat(after.kvCacheBytes()).isEqualTo(kv.bytes());
            assertThat(after.weightsBytes() + after.kvCacheBytes() + after.scratchBytes()).isEqualTo(rt.deviceBytes());
            CudaDevices.MemInfo info = rt.memInfo();
            assertThat(after.totalBytes()).isEqualTo(info.totalBytes());
            assertThat(after.usedBytes()).isEqualTo(info.totalBytes() - info.freeBytes())
                    .isGreaterThanOrEqualTo(rt.deviceBytes());
        }
    }

    @Test
    void gpuGaugesAppearForAnEngineOnTheDevice() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PaddockMetrics metrics = new PaddockMetrics(registry);
        LoadedModel m = LoadedModel.load(MODEL, "test", SharedModels.require(MODEL), GptqOverrides.NONE, 1,
                (weights, parallel) -> CudaTesting.runtime(weights));
        try (GenerationService g = new GenerationService(m, new EngineConfig(16, 0, 2, 128, true, 4),
                metrics.observer(MODEL))) {
            metrics.bind(g);
            g.submit(new GenerationRequest(new int[] {1, 403, 407}, 4, SamplingParams.greedy(), List.of(), true))
                    .get(60, TimeUnit.SECONDS);
            awaitIdle(g);
            DeviceMemoryReport now = g.deviceMemory().orElseThrow();
            assertThat(registry.get("paddock.gpu.memory.total.bytes").tag("device", "0").gauge().value())
                    .isEqualTo(now.totalBytes());
            assertThat(registry.get("paddock.gpu.memory.used.bytes").tag("device", "0").gauge().value())
                    .isPositive();
            assertThat(registry.get("paddock.gpu.memory.paddock.bytes").tags("device", "0", "use", "weights").gauge()
                    .value()).isEqualTo(g.weightsBytes());
            assertThat(registry.get("paddock.gpu.memory.paddock.bytes").tags("device", "0", "use", "kv_cache").gauge()
                    .value()).isEqualTo(g.kvCacheBytes());
            assertThat(registry.get("paddock.gpu.memory.paddock.bytes").tags("device", "0", "use", "scratch").gauge()
                    .value()).isPositive();
            assertThat(registry.get("paddock.model.weights.bytes").tag("model", MODEL).gauge().value())
                    .isEqualTo(g.weightsBytes());
            assertThat(registry.scrape()).contains("paddock_gpu_memory_used_bytes{device=\"0\"}",
                    "paddock_gpu_memory_total_bytes{device=\"0\"}",
                    "paddock_gpu_memory_paddock_bytes{device=\"0\",use=\"weights\"}",
                    "paddock_gpu_memory_paddock_bytes{device=\"0\",use=\"kv_cache\"}",
                    "paddock_gpu_memory_paddock_bytes{device=\"0\",use=\"scratch\"}");
        }
    }
}
