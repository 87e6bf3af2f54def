package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.paddock.runtime.cuda.GpuPerfModel.DeviceSpec;
import io.paddock.runtime.cuda.GpuPerfModel.Launch;
import io.paddock.runtime.cuda.GpuPerfModel.Prediction;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The performance model's arithmetic and the targets' verdicts (docs/gpu-kernels.md, "Performance model"). */
class GpuPerfModelTests {
    private static final DeviceSpec H100 = DeviceSpec.H100_SXM;

    @Test
    void occupancyFollowsTheRegisterThreadAndSharedMemoryLimits() {
        // docs/gpu-kernels.md: the decode kernel (256 threads, 128 registers) gets 2 blocks per SM, batched 3.
        assertThat(GpuPerfModel.residentBlocks(256, 128, 16384, H100.smemPerSm())).isEqualTo(2);
        assertThat(GpuPerfModel.residentBlocks(128, 168, 8192, H100.smemPerSm())).isEqualTo(3);
        assertThat(GpuPerfModel.residentBlocks(256, 32, 0, H100.smemPerSm())).isEqualTo(8);   // by threads
        assertThat(GpuPerfModel.residentBlocks(32, 16, 0, H100.smemPerSm())).isEqualTo(32);   // by blocks
        assertThat(GpuPerfModel.residentBlocks(128, 32, 100 * 1024, H100.smemPerSm())).isEqualTo(2); // by smem
    }

    @Test
    void aStreamWithEnoughBytesInFlightIsDramBoundAndApproachesTheCopyRate() {
        long bytes = 1L << 30;
        Launch l = new Launch("k", "s", 1, bytes, 132 * 8, 256, 32, 0, 32 * 16 * 4, 1e6);
        Prediction p = GpuPerfModel.predict(H100, l);
        assertThat(p.bound()).isEqualTo("DRAM");
        assertThat(p.us()).isCloseTo(bytes / (H100.copyGbps() * 1e3) + H100.launchUs(), within(1e-6));
        assertThat(p.fractionOfCopy()).isGreaterThan(0.99);
    }

    @Test
    void fewBytesInFlightMakeItLatencyBoundAndTinyKernelsLaunchBound() {
        Launch thin = new Launch("k", "s", 1, 1L << 30, 132, 32, 32, 0, 128, 1e3);
        assertThat(GpuPerfModel.predict(H100, thin).bound()).isEqualTo("latency");
        // 132 SMs × 1 warp × 128 B / 650 ns = 26 GB/s
        assertThat(GpuPerfModel.predict(H100, thin).fractionOfCopy()).isCloseTo(132 * 128 / 650e-9 / 3000e9, within(1e-3));
        Launch tiny = new Launch("k", "s", 1, 512, 1, 32, 32, 0, 512, 10); // 0.65 µs of latency < 2 µs
        assertThat(GpuPerfModel.predict(H100, tiny).bound()).isEqualTo("launch");
    }

    @Test
    void instructionHeavyKernelsAreIssueBound() {
        Launch l = new Launch("k", "s", 1, 1 << 20, 132 * 4, 256, 32, 0, 32 * 16 * 4, 1e9);
        Prediction p = GpuPerfModel.predict(H100, l);
        assertThat(p.bound()).isEqualTo("issue");
        assertThat(p.us()).isCloseTo(1e9 / (132 * 4 * 1.755e9) * 1e6 + H100.launchUs(), within(1e-6));
    }

    @Test
    void theDocumentHoldsTheModelsCurrentTables() throws Exception {
        String doc = java.nio.file.Files.readString(java.nio.file.Path.of("docs/gpu-kernels.md"));
        for (String line : GpuPerfModel.tables(H100).split("\n")) {
            assertThat(doc).as("docs/gpu-kernels.md is missing a line of the performance model's tables (regenerate "
                    + "them with scripts/perf-model-tables)").contains(line);
        }
    }

    @Test
    void theGemmTakesOverWhereTheModelSaysItIsFaster() {
        double gemv = 0, gemm = 0;
        int r = CudaKernels.GEMM_FROM_ROWS;
        for (Launch l : GpuPerfModel.linear(4096, 4096, r, H100.sms(), Integer.MAX_VALUE)) gemv += GpuPerfModel.predict(H100, l).us();
        for (Launch l : GpuPerfModel.linear(4096, 4096, r, H100.sms(), 1)) gemm += GpuPerfModel.predict(H100, l).us();
        assertThat(gemm).as("GEMM at %d rows", r).isLessThan(gemv);
        gemv = 0;
        gemm = 0;
        for (Launch l : GpuPerfModel.linear(4096, 4096, r - 1, H100.sms(), Integer.MAX_VALUE)) gemv += GpuPerfModel.predict(H100, l).us();
        for (Launch l : GpuPerfModel.linear(4096, 4096, r - 1, H100.sms(), 1)) gemm += GpuPerfModel.predict(H100, l).us();
        assertThat(gemv).as("GEMV at %d rows", r - 1).isLessThan(gemm);
    }

    @Test
    void targetsAreJudgedFromTheBenchFigures() {
        Map<String, Object> bench = Map.of(
                "copy", Map.of("gbPerSecondBest", 3000.0),
                "endToEnd", List.of(Map.of("model", "synthetic llama-7b 4-bit", "layers", 8,
                        "estimatedFullDepth", Map.of("method", "linear", "layers", 32,
                                "decode", List.of(Map.of("batch", 1, "tokensPerSecond", 700.0),
                                        Map.of("batch", 32, "tokensPerSecond", 4000.0))))),
                "kernels", List.of(Map.of("kernel", "gptq_x", "shape", "4096→4096", "batch", 16, "usPerCall", 3.0)));
        List<Map<String, Object>> t = GpuCheckTargets.evaluate(bench, 80L << 30, 4, 128, 16, 64);
        assertThat(t).hasSize(4);
        long perToken = GpuCheckTargets.bytesPerToken(io.paddock.bench.SyntheticShape.LLAMA_7B, 4, 128, 48);
        assertThat((Double) t.get(0).get("measured")).isCloseTo(perToken * 700.0 / 3000e9, within(0.01));
        assertThat(t.get(1).get("verdict")).isEqualTo("missed"); // 4000 / 700 = 5.7 < 8
        // beside the measurement, the model's step for the same context on this copy rate
        double model1 = GpuPerfModel.decodeStep(H100, GpuPerfModel.Model.LLAMA_7B, 1, 48, true,
                CudaKernels.GEMM_FROM_ROWS).tokensPerSecond();
        assertThat((Double) t.get(0).get("modelTokensPerSecond")).isCloseTo(model1, within(model1 * 1e-3)); // rounded for the report
        assertThat((Double) t.get(1).get("modelRatio")).isGreaterThan(1);
        assertThat((Double) t.get(2).get("measured")).isCloseTo(2.0 * 4096 * 4096 / 3000e9 * 1e6 / 3.0, within(0.01));
        assertThat(t.get(2).get("verdict")).isEqualTo("met");
        assertThat(t.get(3).get("verdict")).isNotEqualTo("not measured");
    }

    @Test
    void noFiguresMeansNotMeasuredNotMissed() {
        List<Map<String, Object>> t = GpuCheckTargets.evaluate(Map.of(), 0, 4, 128, 16, 64);
        assertThat(t).extracting(m -> m.get("verdict")).containsOnly("not measured");
    }

    @Test
    void llama65BFitsAnEightyGigabyteDeviceWithEightThousandTokensOfKv() {
        Map<String, Object> t = GpuCheckTargets.fits65B(81559L << 20, 4, 128); // an H100 80 GB: 81559 MiB
        System.out.println("65B on 80 GB: " + t);
        assertThat(t.get("verdict")).as("%s", t).isEqualTo("met");
    }
}
