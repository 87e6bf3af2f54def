package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CUDA sources hold against what the runtime assumes of them, checked with nvcc alone (no driver, no GPU):
 * <ul>
 *   <li>ptxas builds every module for each architecture we support, and every kernel fits the launch its
 *       {@link KernelSpec} describes: static shared memory ≤ 48 KiB, no spills, registers × threads per block
 *       within the register file ({@link PtxasReport} holds the rules);</li>
 *   <li>the PTX's kernels are exactly {@link CudaKernels#ALL}, each with the parameter types and order the
 *       launcher packs;</li>
 *   <li>the PTX this toolkit produces is judged by {@link PtxCompatibility} as the driver would.</li>
 * </ul>
 * {@code nvcc --ptx} alone never runs ptxas, which is how a 64 KiB shared array once passed. nvcc stands in for
 * NVRTC (same front end, same PTX). Numerical parity is a GPU session's job (docs/gpu-kernels.md).
 */
class CudaKernelSourceTests {
    private static final Path SOURCES = Path.of("src/main/resources/cuda");
    private static final List<String> SM_ARCHS = List.of("sm_80", "sm_86", "sm_89", "sm_90");

    /**
     * Static shared memory per block as docs/gpu-kernels.md states it (kernels not listed use none). It does not
     * change with architecture or bit width; a difference is a contract change or a per-instantiation copy.
     */
    private static final Map<String, Integer> DOCUMENTED_SMEM = Map.ofEntries(
            Map.entry("gptq_matmul_decode", 32 * 4 * 32 * 4),      // (warp ≤ 32, row ≤ 4, lane) floats
            Map.entry("gptq_matmul_batched", 16 * 128 * 4),        // 16 rows × 128 inputs of xp
            Map.entry("rmsnorm_f32", 32 * 4),                      // one partial sum per warp
            Map.entry("add_rmsnorm_f32", 32 * 4),                  // the same block sum
            Map.entry("argmax_rows", 1024 * (4 + 4)),              // value and index per thread, up to 1024 threads
            Map.entry("paged_attention_f32", (4 + 4 + 4 * 256) * 4),    // per warp: max, sum, 256 accumulators
            // 4 stages × (A 64 rows × 5 chunks + B 2 × 4 × 32) × 16 B, and the split-K "counted last" flag
            Map.entry("gptq_mma_gemm", 4 * (64 * 5 + 2 * 4 * 32) * 16 + 4),
            // Pa16Shared: K and V tiles of 16 positions × 129 words, q 16 × 256 floats, weights 16 × 16, m/l/corr/len
            Map.entry("paged_attention_decode_f16", (2 * 16 * 129 + 16 * 256 + 16 * 16 + 4 * 16) * 4 + 4),
            Map.entry("paged_attention_prefill_f16", (2 * 16 * 129 + 16 * 256 + 16 * 16 + 4 * 16) * 4),
            // every gptq_gemv_tiled entry (4, 8, 2 and 3 bits): 8 rows × 512 fp16 pairs of x; (warp, row, column)
            // sums; the split-K last-slice flag (gemv_last_slice)
            Map.entry("gptq_gemv_tiled", 8 * 512 * 4 + 4 * 8 * 64 * 4 + 4),
            Map.entry("gptq_gemv_tiled_b8", 8 * 512 * 4 + 4 * 8 * 64 * 4 + 4),
            Map.entry("gptq_gemv_tiled_b2", 8 * 512 * 4 + 4 * 8 * 64 * 4 + 4),
            Map.entry("gptq_gemv_tiled_b3", 8 * 512 * 4 + 4 * 8 * 64 * 4 + 4));

    private static Compiled compiled;

    private record Built(Nvcc.Result ptx, Nvcc.Result cubin) {}

    /** Every nvcc result the tests read, keyed by source and architecture. */
    private record Compiled(Nvcc nvcc, Map<String, Nvcc.Result> results, long millis) {
        Nvcc.Result get(String source, String arch) {
            return results.get(source + " " + arch);
        }
    }

    // All compilations at once, in parallel, the first time any test needs them: the tests share them.
    private static synchronized Compiled compiled() throws Exception {
        if (compiled != null) return compiled;
        Optional<Nvcc> found = Nvcc.find();
        assumeTrue(found.isPresent(), "no nvcc on PATH or under /usr/local/cuda*/bin: CUDA sources not compiled");
        Nvcc nvcc = found.get();
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
        try {
            // the largest module first, so two cores do not wait on it at the end
            List<String> order = sources().stream()
                    .sorted(Comparator.comparingLong(CudaKernelSourceTests::size).reversed()).toList();
            // per architecture: the PTX NVRTC makes for it (compute_XX), then ptxas on that PTX (sm_XX)
            Map<String, Future<Built>> jobs = new LinkedHashMap<>();
            for (String src : order) {
                Path cu = SOURCES.resolve(src);
                for (String arch : SM_ARCHS) {
                    jobs.put(src + " " + arch, pool.submit(() -> {
                        Nvcc.Result ptx = nvcc.ptx(cu, arch.replace("sm_", "compute_"));
                        Nvcc.Result cubin = ptx.exitCode() == 0 ? nvcc.cubin(src, ptx.ptx(), arch) : ptx;
                        return new Built(ptx, cubin);
                    }));
                }
            }
            Map<String, Nvcc.Result> results = new LinkedHashMap<>();
            for (var e : jobs.entrySet()) {
                Built b = e.getValue().get();
                results.put(e.getKey().replace(" sm_", " compute_"), b.ptx());
                results.put(e.getKey(), b.cubin());
            }
            compiled = new Compiled(nvcc, results, (System.nanoTime() - t0) / 1_000_000);
            System.out.printf("nvcc (%s): %d compilations in %d ms (cached under target/cuda-checks)%n",
                    nvcc.executable(), results.size(), compiled.millis());
            return compiled;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception c ? c : e;
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<String> sources() {
        try (Stream<Path> s = Files.list(SOURCES)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long size(String source) {
        try {
            return Files.size(SOURCES.resolve(source));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<KernelSpec> specs(String source) {
        return CudaKernels.ALL.stream().filter(k -> k.source().equals(source)).toList();
    }

    @Test
    void theSourcesAreTheOnesTheRuntimeLoads() {
        assertThat(sources()).as(".cu files under %s vs KernelSources.NAMES", SOURCES)
                .containsExactlyInAnyOrderElementsOf(KernelSources.NAMES);
        assertThat(CudaKernels.ALL).extracting(KernelSpec::source).allSatisfy(s -> assertThat(KernelSources.NAMES).contains(s));
        assertThat(CudaKernels.ALL).extracting(KernelSpec::name).doesNotHaveDuplicates();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sm_80", "sm_86", "sm_89", "sm_90"})
    void ptxasFitsEveryKernelIntoItsLaunch(String arch) throws Exception {
        Compiled c = compiled();
        List<String> problems = new ArrayList<>();
        StringBuilder table = new StringBuilder(String.format("%n%-22s %-6s %5s %6s %6s %6s %7s %9s%n", "kernel", "arch",
                "regs", "smem", "stack", "spill", "threads", "block regs"));
        for (String src : KernelSources.NAMES) {
            Nvcc.Result r = c.get(src, arch);
            PtxasReport report = PtxasReport.parse(arch, r.log());
            if (r.exitCode() != 0) {
                problems.add(src + " " + arch + ": nvcc exit " + r.exitCode() + (report.errors().isEmpty()
                        ? ":\n" + r.log() : ": " + String.join("; ", report.errors())));
            }
            for (KernelSpec k : specs(src)) {
                PtxasReport.Function f = report.functions().get(k.name());
                if (f == null || !f.entry()) {
                    problems.add(src + " " + arch + ": ptxas reported nothing for " + k.name());
                    continue;
                }
                PtxasReport.violations(f, k.maxBlockThreads()).forEach(v -> problems.add(arch + " " + v));
                table.append(String.format("%-22s %-6s %5d %6d %6d %6d %7d %9d%n", f.name(), arch, f.registers(),
                        f.staticSmem(), f.stackFrame(), f.spillStores() + f.spillLoads(), k.maxBlockThreads(),
                        PtxasReport.blockRegisters(f.registers(), k.maxBlockThreads())));
            }
            // device functions ptxas kept out of line (libdevice slow paths) must not spill either
            report.functions().values().stream().filter(f -> !f.entry()).sorted(Comparator.comparing(PtxasReport.Function::name))
                    .forEach(f -> {
                        PtxasReport.spills(f).forEach(v -> problems.add(arch + " " + v));
                        table.append(String.format("  %-20s %-6s %5s %6s %6d %6d   (called from %s)%n", f.name(), arch,
                                "", "", f.stackFrame(), f.spillStores() + f.spillLoads(), src));
                    });
        }
        System.out.print(table);
        assertThat(problems).as("ptxas resource problems for %s", arch).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sm_80", "sm_86", "sm_89", "sm_90"})
    void staticSharedMemoryIsWhatTheDocsPromise(String arch) throws Exception {
        Compiled c = compiled();
        Map<String, Integer> measured = new LinkedHashMap<>();
        Map<String, Integer> documented = new LinkedHashMap<>();
        for (KernelSpec k : CudaKernels.ALL) {
            PtxasReport.Function f = PtxasReport.parse(arch, c.get(k.source(), arch).log()).functions().get(k.name());
            measured.put(k.name(), f == null ? null : f.staticSmem());
            documented.put(k.name(), DOCUMENTED_SMEM.getOrDefault(k.name(), 0));
        }
        assertThat(measured).as("static shared memory (bytes) per kernel on %s", arch).isEqualTo(documented);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"compute_80", "compute_86", "compute_89", "compute_90"})
    void ptxEntriesAreExactlyTheLaunchedKernelsWithTheirParameters(String arch) throws Exception {
        Compiled c = compiled();
        List<String> problems = new ArrayList<>();
        for (String src : KernelSources.NAMES) {
            Nvcc.Result r = c.get(src, arch);
            assertThat(r.exitCode()).as("nvcc --ptx -arch=%s %s:%n%s", arch, src, r.log()).isZero();
            Map<String, List<String>> entries = PtxEntries.parse(r.ptx());
            Map<String, KernelSpec> specs = specs(src).stream()
                    .collect(Collectors.toMap(KernelSpec::name, k -> k, (a, b) -> a, LinkedHashMap::new));
            for (String e : entries.keySet()) {
                if (!specs.containsKey(e)) problems.add(src + ": .entry " + e + " has no KernelSpec (never launched)");
            }
            for (KernelSpec k : specs.values()) {
                List<String> params = entries.get(k.name());
                if (params == null) {
                    problems.add(src + ": KernelSpec " + k.name() + " has no .entry in the PTX");
                } else if (!params.equals(PtxEntries.expected(k))) {
                    problems.add(src + ": " + k.name() + " PTX params " + params + " but the launcher packs "
                            + PtxEntries.expected(k) + " " + k.params());
                }
            }
        }
        assertThat(problems).as("PTX entries vs CudaKernels.ALL (%s)", arch).isEmpty();
    }

    @Test
    void ptxFromThisToolkitNeedsTheDriverOfItsRelease() throws Exception {
        Compiled c = compiled();
        for (String src : KernelSources.NAMES) {
            String ptx80 = c.get(src, "compute_80").ptx();
            PtxCompatibility.Header h = PtxCompatibility.header(ptx80);
            assertThat(h.target()).isEqualTo("sm_80");
            // nvcc 13.x writes PTX ISA 9.x, which only a CUDA 13.0 (R580) or newer driver JITs
            assertThat(h.major()).as("%s .version", src).isGreaterThanOrEqualTo(9);
            int driver = PtxCompatibility.TABLE.stream().filter(t -> t.major() == h.major() && t.minor() == h.minor())
                    .findFirst().orElseThrow(() -> new AssertionError("PTX " + h.version() + " not in the table"))
                    .minDriver();
            if (h.major() == 9 && h.minor() == 0) assertThat(driver).isEqualTo(13000);
            assertThat(PtxCompatibility.check(ptx80, driver, 80)).as("%s on sm_80", src).isEmpty();
            assertThat(PtxCompatibility.check(ptx80, driver, 90)).as("%s on sm_90", src).isEmpty();
            Optional<String> old = PtxCompatibility.check(ptx80, 12040, 80);
            System.out.println(src + " (compute_80 PTX " + h.version() + ") on a 12.4 driver: " + old.orElse("accepted"));
            assertThat(old).hasValueSatisfying(m -> assertThat(m)
                    .startsWith("PTX .version " + h.version() + " needs a CUDA " + PtxCompatibility.cuda(driver) + " driver (R")
                    .contains("this driver is 12.4 (12040)"));

            String ptx90 = c.get(src, "compute_90").ptx();
            assertThat(PtxCompatibility.check(ptx90, driver, 80)).as("%s compute_90 PTX on sm_80", src)
                    .contains("PTX targets sm_90 but the device is sm_80: generate the PTX for compute_80");
            assertThat(PtxCompatibility.check(ptx90, driver, 90)).isEmpty();
        }
    }
}
