package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paddock.bench.SyntheticSpec;
import io.paddock.model.GptqOverrides;
import io.paddock.runtime.cuda.GpuCheckBench.Settings;
import io.paddock.runtime.cuda.GpuCheckEndToEnd.E2eModel;
import io.paddock.runtime.cuda.sim.SimSettings;
import io.paddock.runtime.cuda.sim.SimulatedDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every code path of scripts/gpu-check's benchmark and report, on the simulated device at toy sizes (seconds), so
 * they still work the next time a GPU machine is lent: copy bandwidth, every kernel figure, end to end on a
 * synthetic GPTQ act-order model (with the cut-to-fewer-layers estimate), the JSON written as it goes, and the
 * report rendered from it.
 */
class GpuBenchSmokeTests {
    @TempDir
    Path tmp;

    @Test
    @SuppressWarnings("unchecked")
    void benchmarkRunsOnTheSimulatedDeviceAndTheReportRendersIt() throws Exception {
        Optional<String> why = SimulatedDevice.unavailableReason();
        assumeTrue(why.isEmpty(), () -> "skipped: no simulated device: " + why.orElse(""));
        Settings s = Settings.smoke();
        List<E2eModel> models = new ArrayList<>();
        // A fixture folder takes the same path as the synthetic model once loaded; stories260K's fp32 dense layers
        // are slow to emulate, so here a missing folder checks that it is skipped, and says so.
        models.add(E2eModel.fixture("absent fixture", tmp.resolve("absent"), GptqOverrides.NONE));
        SyntheticSpec spec = new SyntheticSpec(s.syntheticShape(), s.syntheticLayers(), SyntheticSpec.Format.GPTQ, s.bits(),
                s.groupSize(), true, 0);
        models.add(E2eModel.synthetic(spec, tmp.resolve("tiny")));
        Path json = tmp.resolve("out/gpu-bench.json");
        List<Integer> updates = new ArrayList<>();

        Map<String, Object> r;
        try (SimulatedDevice d = new SimulatedDevice(SimSettings.h100_80gb())) {
            r = GpuCheckBench.run(d, s, models, result -> {
                GpuCheckBench.write(json, result);
                updates.add(result.size());
            }, System.out);
            for (String kernel : List.of("gptq_matmul_decode", "gptq_matmul_batched", "gptq_gather_x", "dense_matmul",
                    "paged_attention_f32")) {
                assertThat(d.launches(kernel)).as(kernel).isPositive();
            }
            assertThat(d.liveAllocations()).as("everything the bench allocated is freed").isZero();
        }

        assertThat((List<String>) r.get("errors")).isEmpty();
        assertThat((List<String>) r.get("skipped")).singleElement().asString()
                .startsWith("end to end absent fixture: ").endsWith("absent not found");
        assertThat(updates).hasSizeGreaterThan(3); // written section by section, not only at the end
        assertThat(((Map<String, Object>) r.get("device")).get("name")).asString().contains("Simulated");

        Map<String, Object> copy = (Map<String, Object>) r.get("copy");
        assertThat((double) copy.get("gbPerSecondBest")).isPositive();

        List<Map<String, Object>> kernels = (List<Map<String, Object>>) r.get("kernels");
        // every smoke shape also in the tiled layout: gptq_gemv_tiled at the batches up to 8 (1, 4, 8) and
        // gptq_mma_gemm at every batch
        int expected = s.gptqShapes().size() * s.gptqBatches().length + s.denseShapes().size() * s.denseBatches().length
                + 2 * s.attentionBatches().length   // paged attention over an fp32 and over an fp16 pool
                + s.gptqShapes().size() * (3 + s.gptqBatches().length);
        assertThat(kernels).hasSize(expected);
        assertThat(kernels).filteredOn(k -> k.get("kernel").equals("paged_attention_decode_f16"))
                .hasSize(s.attentionBatches().length);
        assertThat(kernels).filteredOn(k -> k.get("kernel").equals("gptq_mma_gemm"))
                .hasSize(s.gptqShapes().size() * s.gptqBatches().length)
                .allSatisfy(k -> assertThat((double) k.get("predictedUs")).isPositive())
                // the whole call it times (x pre-pass + GEMM) is predicted too: one more launch than the kernel
                .allSatisfy(k -> assertThat((double) k.get("predictedCallUs"))
                        .isGreaterThan((double) k.get("predictedUs")));
        assertThat(kernels).filteredOn(k -> k.get("kernel").equals("gptq_gemv_tiled"))
                .allSatisfy(k -> assertThat(k.get("predictedBound")).isNotNull());
        assertThat((List<Map<String, Object>>) r.get("targets")).hasSize(4);
        for (Map<String, Object> k : kernels) {
            assertThat((double) k.get("usPerCall")).as("%s", k).isPositive();
            assertThat((double) k.get("gbPerSecond")).as("%s", k).isPositive();
            assertThat(k.get("fractionOfCopy")).as("%s", k).isNotNull();
        }
        assertThat(kernels).filteredOn(k -> k.get("kernel").equals("gptq_matmul_decode")).hasSize(6);
        assertThat(kernels).filteredOn(k -> k.get("kernel").equals("gptq_matmul_batched")).hasSize(6);
        assertThat(kernels).filteredOn(k -> k.get("kernel").equals("gptq_gemv_tiled")).hasSize(9)
                .allSatisfy(k -> assertThat(k).containsKey("splitK"));
        assertThat(kernels).filteredOn(k -> k.containsKey("usPerCallWithActOrderGather")).hasSize(12);
        // one launch per call, but the tensor-core GEMM's two: the x pre-pass and the GEMM (memsets are not launches)
        assertThat(kernels).allSatisfy(k -> assertThat((double) k.get("launchesPerCall"))
                .isEqualTo(k.get("kernel").equals("gptq_mma_gemm") ? 2.0 : 1.0));

        List<Map<String, Object>> e2e = (List<Map<String, Object>>) r.get("endToEnd");
        assertThat(e2e).hasSize(1);
        for (Map<String, Object> e : e2e) {
            List<Map<String, Object>> decode = (List<Map<String, Object>>) e.get("decode");
            assertThat(decode).extracting(d -> d.get("batch")).containsExactly(1, 5);
            assertThat(decode).allSatisfy(d -> assertThat((double) d.get("tokensPerSecond")).isPositive());
            // graphs are on by default: the same steps are timed launch by launch too
            assertThat(decode).allSatisfy(d -> assertThat((double) d.get("eagerTokensPerSecond")).isPositive());
            assertThat((double) ((Map<String, Object>) e.get("prefill")).get("tokensPerSecond")).isPositive();
        }
        Map<String, Object> synthetic = e2e.getLast();
        assertThat(synthetic.get("model")).asString().contains("GPTQ 4-bit g128 act-order");
        assertThat(synthetic).containsKeys("writeSeconds", "loadSeconds", "baseLayers", "estimatedFullDepth");
        assertThat(((Map<String, Object>) synthetic.get("baseLayers")).get("layers")).isEqualTo(1);
        Map<String, Object> estimate = (Map<String, Object>) synthetic.get("estimatedFullDepth");
        assertThat(estimate.get("layers")).isEqualTo(4);
        assertThat((List<Map<String, Object>>) estimate.get("decode")).hasSize(2)
                .allSatisfy(d -> assertThat((double) d.get("msPerStep")).isFinite()); // emulation timings are noisy

        // The file on disk is the whole result, and the report renders it with a test run beside it.
        Map<String, Object> onDisk = GpuCheckReport.readBench(json);
        assertThat(onDisk).containsKeys("device", "copy", "kernels", "endToEnd");
        Path tests = tmp.resolve("tests.tsv");
        Files.writeString(tests, """
                SUCCESSFUL\tCudaRuntimeParityTests#prefillLogitsMatchTheCpu(String)[1]\t0.5\t
                FAILED\tCudaRuntimeParityTests#greedy64TokensIdentical(String)[3]\t1.25\texpected [1, 2] but was [1, 3]
                ABORTED\tNvrtcCompileTests#compilesEverySourceAndCaches(Path)\t0.01\tskipped: NVRTC binding unavailable
                #SUMMARY\t3
                """);
        Map<String, Object> report = GpuCheckReport.report(GpuCheckReport.tests(tests, 1), onDisk, 0,
                List.of(Map.of("name", "Simulated", "driver_version", "none")), 12.5, List.of("smoke test"));
        Path out = tmp.resolve("report");
        GpuCheckReport.write(out, report);
        Map<String, Object> back = JsonMapper.builder().build().readValue(out.resolve("gpu-report.json").toFile(), LinkedHashMap.class);
        assertThat(back.get("verdict")).isEqualTo("FAIL");
        Map<String, Object> t = (Map<String, Object>) back.get("tests");
        assertThat(t).containsEntry("passed", 1).containsEntry("failed", 1).containsEntry("skipped", 1)
                .containsEntry("complete", true);
        String md = Files.readString(out.resolve("gpu-report.md"));
        assertThat(md).contains("# GPU check: FAIL", "greedy64TokensIdentical", "expected [1, 2] but was [1, 3]",
                "NVRTC binding unavailable", "Device-to-device copy", "| gptq_matmul_batched | 384→128 | 32 |",
                "paged_attention_f32", "**estimate**", "Simulated CUDA device");
    }

    @Test
    void reportWithoutAnyInputsStillRenders() throws Exception {
        Map<String, Object> noDevice = new LinkedHashMap<>();
        noDevice.put("device", null);
        noDevice.put("unavailable", "no CUDA driver (libcuda.so.1 not found)");
        Map<String, Object> report = GpuCheckReport.report(GpuCheckReport.tests(tmp.resolve("absent.tsv"), null), noDevice,
                0, List.of(), null, List.of());
        assertThat(report.get("verdict")).isEqualTo("NO DEVICE");
        GpuCheckReport.write(tmp, report);
        assertThat(Files.readString(tmp.resolve("gpu-report.md"))).contains("No device: no CUDA driver", "no test results");
        assertThat(GpuCheckReport.markdown(GpuCheckReport.report(GpuCheckReport.tests(null, 137), null, 137, List.of(), 300.0,
                List.of()))).contains("# GPU check: BENCH FAILED", "no benchmark results", "no test results");
        // Tests stopped by timeout(1) after some finished: what finished counts, the run is incomplete, not failed.
        Path partial = tmp.resolve("partial.tsv");
        Files.writeString(partial, "SUCCESSFUL\tCudaRuntimeParityTests#prefillLogitsMatchTheCpu [1]\t0.5\t\n");
        Map<String, Object> stopped = GpuCheckReport.report(GpuCheckReport.tests(partial, 124), Map.of("errors", List.of(),
                "skipped", List.of()), 0, List.of(), 290.0, List.of());
        assertThat(stopped.get("verdict")).isEqualTo("PASS (incomplete)");
        assertThat(GpuCheckReport.markdown(stopped)).contains("did not finish", "1 passed, 0 failed");
    }
}
