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
    void gemmFromRowsSitsWhereTheModelHasTheGemmCatchUpWithTheGemv() {
        int r = CudaKernels.GEMM_FROM_ROWS;
        for (GpuPerfModel.StepLinear p : GpuPerfModel.stepLinears(GpuPerfModel.Model.LLAMA_7B)) {
            double gemv = call(p, r, Integer.MAX_VALUE), gemm = call(p, r, 1);
            // at GEMM_FROM_ROWS the GEMM is faster, or (o: 4096→4096) within 2 % of the GEMV
            assertThat(gemm).as("%s: GEMM at %d rows against the GEMV's %.2f µs", p.label(), r, gemv)
                    .isLessThan(gemv * 1.02);
        }
        // 4096→4096 (o): the model's crossover is one row above GEMM_FROM_ROWS; the fused shapes cross at 3 rows
        List<GpuPerfModel.StepLinear> sl = GpuPerfModel.stepLinears(GpuPerfModel.Model.LLAMA_7B);
        assertThat(GpuPerfModel.gemmCrossoverRows(H100, 4096, 4096, sl.get(1).io())).isEqualTo(r + 1);
        assertThat(GpuPerfModel.gemmCrossoverRows(H100, 4096, 12288, sl.get(0).io())).isEqualTo(3);
        assertThat(GpuPerfModel.gemmCrossoverRows(H100, 4096, 22016, sl.get(2).io())).isEqualTo(3);
        // the whole call below the crossover: the GEMV wins at one row on every shape
        for (GpuPerfModel.StepLinear p : sl) {
            assertThat(call(p, 1, Integer.MAX_VALUE)).as(p.label()).isLessThan(call(p, 1, 1));
        }
    }

    private static double call(GpuPerfModel.StepLinear p, int rows, int gemmFromRows) {
        return GpuPerfModel.callUs(H100, GpuPerfModel.linear(p.in(), p.out(), rows, H100.sms(), gemmFromRows, p.io()));
    }

    /** Per layer, as the fused step launches it (docs/gpu-kernels.md, "Whole decode steps"). */
    private static int expectedLaunchesPerLayer(int batch, int context) {
        int perLinear = batch >= CudaKernels.GEMM_FROM_ROWS ? 2 : Math.ceilDiv(batch, CudaKernels.GEMV_MAX_ROWS);
        // rmsnorm, rope_kv_store_f16, attention (its partitions combined by the last), rmsnorm; q/k/v, o, gate/up, down
        return 4 + 4 * perLinear;
    }

    @Test
    void theFusedStepHasItsLaunchCountAndNoMemsets() {
        for (GpuPerfModel.Model m : GpuPerfModel.MODELS) {
            for (int batch : new int[] {1, 5, 6, 8, 32}) {
                for (int context : new int[] {GpuPerfModel.ATTENTION_PARTITION, 512}) {
                    for (boolean graphs : new boolean[] {false, true}) {
                        GpuPerfModel.Step st = GpuPerfModel.decodeStep(H100, m, batch, context, graphs,
                                CudaKernels.GEMM_FROM_ROWS);
                        String what = m.name() + " batch " + batch + " context " + context;
                        assertThat(st.launches()).as(what)
                                .hasSize(m.layers() * expectedLaunchesPerLayer(batch, context) + 2);
                        assertThat(st.launches()).as(what).extracting(p -> p.launch().kernel())
                                .noneMatch(k -> k.contains("memset"))
                                .doesNotContain("add_rmsnorm_f32", "swiglu_f32", "kv_store_f16", "rope q", "rope k");
                    }
                }
            }
        }
        assertThat(expectedLaunchesPerLayer(1, 512)).isEqualTo(8);   // the 22 of the unfused step
        assertThat(expectedLaunchesPerLayer(32, 512)).isEqualTo(12);
        // the first layer in order, at batch 1 (GEMV) and at 32 rows (x pre-pass + GEMM)
        List<String> one = GpuPerfModel.decodeStep(H100, GpuPerfModel.Model.LLAMA_7B, 1, 512, true,
                CudaKernels.GEMM_FROM_ROWS).launches().subList(0, 8).stream()
                .map(p -> p.launch().kernel() + " " + p.launch().shape()).toList();
        assertThat(one).containsExactly("rmsnorm_f32 ", "gptq_gemv_tiled 4096→12288", "rope_kv_store_f16 ",
                "paged_attention_decode_f16 context 512, 32×128",
                "gptq_gemv_tiled 4096→4096, y +=", "rmsnorm_f32 ", "gptq_gemv_tiled 4096→22016",
                "gptq_gemv_tiled 11008→4096, x = silu(g)·u, y +=");
        List<String> many = GpuPerfModel.decodeStep(H100, GpuPerfModel.Model.LLAMA_7B, 32, 512, true,
                CudaKernels.GEMM_FROM_ROWS).launches().subList(0, 12).stream().map(p -> p.launch().kernel()).toList();
        assertThat(many).containsExactly("rmsnorm_f32", "gptq_mma_prepare_x", "gptq_mma_gemm", "rope_kv_store_f16",
                "paged_attention_decode_f16", "gptq_mma_prepare_x", "gptq_mma_gemm",
                "rmsnorm_f32", "gptq_mma_prepare_x", "gptq_mma_gemm", "gptq_mma_prepare_x", "gptq_mma_gemm");
    }

    @Test
    void theFusedProjectionsCountTheirPartialsAccumulationAndSwiglu() {
        int sms = H100.sms();
        int split = GpuPerfModel.gemvSplitK(11008, 4096, sms);
        assertThat(split).isGreaterThan(1);
        Launch plain = GpuPerfModel.gemvTiled(11008, 4096, 1, 128, split, 128, 24576);
        Launch fused = GpuPerfModel.gemvTiled(11008, 4096, 1, 128, split, 128, 24576,
                GpuPerfModel.Io.SWIGLU_ACCUMULATE);
        assertThat(fused.dramBytes() - plain.dramBytes()).isEqualTo(11008L * 4 + 4096L * 4); // up read, y read
        Launch unsplit = GpuPerfModel.gemvTiled(11008, 4096, 1, 128, 1, 128, 24576);
        assertThat(plain.dramBytes() - unsplit.dramBytes()).isEqualTo(2L * split * 4096 * 4); // partials out and back
        assertThat(fused.warpInstructions()).isGreaterThan(plain.warpInstructions());
        // the GEMM: partials by its grid's z, the accumulation's read of y; the pre-pass reads gate and up
        int z = CudaKernels.mmaGrid(16, 4096, 4096, sms).z();
        assertThat(z).isGreaterThan(1);
        Launch g = GpuPerfModel.gemmMma(4096, 4096, 16, 128, sms, 218, 36864);
        Launch ga = GpuPerfModel.gemmMma(4096, 4096, 16, 128, sms, 218, 36864, GpuPerfModel.Io.ACCUMULATE);
        assertThat(ga.dramBytes() - g.dramBytes()).isEqualTo(16L * 4096 * 4);
        assertThat(GpuPerfModel.partialBytes(z, 16, 4096)).isEqualTo(2L * z * 16 * 4096 * 4);
        assertThat(GpuPerfModel.prepareX(11008, 16, true).dramBytes()).isEqualTo(16L * 11008 * 10);
        assertThat(GpuPerfModel.prepareX(11008, 16, false).dramBytes()).isEqualTo(16L * 11008 * 6);
        // q/k/v is one launch of out = q + 2·kv, gate/up one of 2·ff
        assertThat(GpuPerfModel.stepLinears(GpuPerfModel.Model.LLAMA_65B)).extracting(GpuPerfModel.StepLinear::out)
                .containsExactly(3 * 8192, 8192, 2 * 22016, 8192);
    }

    @Test
    void theSixteenRowTargetIsReportedAgainstTheFloorAndAnIdealOneLaunchFp16Gemm() {
        assertThat(GpuPerfModel.fp16GemmUs(H100, 4096, 4096, false))
                .isCloseTo(2.0 * 4096 * 4096 / 3000e3, within(1e-9));
        assertThat(GpuPerfModel.fp16GemmUs(H100, 4096, 4096, true))
                .isCloseTo(GpuPerfModel.fp16GemmUs(H100, 4096, 4096, false) + H100.launchUs(), within(1e-9));
        List<GpuPerfModel.Gemm16> rows = GpuPerfModel.gemm16(H100);
        assertThat(rows).hasSize(GpuPerfModel.MODELS.size() * 5);
        for (GpuPerfModel.Gemm16 r : rows) {
            assertThat(r.callUs()).as("the call adds the pre-pass launch")
                    .isGreaterThan(r.kernelUs() + H100.launchUs());
            assertThat(r.oneLaunchUs()).isGreaterThan(r.floorUs());
        }
        // 7B 4096→4096: the worst shape, short of 3.5× against either reference
        GpuPerfModel.Gemm16 o = rows.get(0);
        assertThat(o.oneLaunchUs() / o.callUs()).isLessThan(GpuCheckTargets.GEMM_16_RATIO);
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
        // target 3 against an ideal one-launch fp16 GEMM (the model's fixed cost + weights at the copy rate), the
        // floor without the launch beside it
        double floorUs = 2.0 * 4096 * 4096 / 3000e9 * 1e6;
        assertThat((Double) t.get(2).get("measured")).isCloseTo((floorUs + H100.launchUs()) / 3.0, within(0.01));
        assertThat((Double) t.get(2).get("againstFloorWithoutLaunch")).isCloseTo(floorUs / 3.0, within(0.01));
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
