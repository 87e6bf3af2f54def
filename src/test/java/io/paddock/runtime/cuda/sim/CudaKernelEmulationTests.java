package io.paddock.runtime.cuda.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs the project's CUDA kernels (src/main/resources/cuda) on the CPU under the host emulation
 * (src/test/native/cudasim) through the C++ harness kernel_tests*.cpp, which checks every kernel against scalar
 * references: built plain, with AddressSanitizer + UBSan and with ThreadSanitizer. Two more tests prove that the
 * sanitizers see what they must through the emulation: a removed {@code __syncthreads()} is a TSan data race, an
 * out-of-bounds device read is an ASan report. Builds are cached by content under target/cudasim.
 */
class CudaKernelEmulationTests {
    // Fatal sanitizer reports (UBSan would otherwise print and continue with exit code 0).
    private static final List<String> ASAN = List.of("-O1", "-g", "-fsanitize=address,undefined",
            "-fno-omit-frame-pointer", "-fno-sanitize-recover=all");
    private static final List<String> TSAN = List.of("-O1", "-g", "-fsanitize=thread");
    private static final Map<String, String> SANITIZER_ENV = Map.of(
            "ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:symbolize=1",
            "UBSAN_OPTIONS", "print_stacktrace=1",
            "TSAN_OPTIONS", "halt_on_error=0:exitcode=66:history_size=4");
    private static final Duration RUN_LIMIT = Duration.ofMinutes(3);

    @BeforeEach
    void requireCompiler() {
        var why = NativeToolchain.unavailableReason();
        assumeTrue(why.isEmpty(), () -> "skipped: " + why.orElse(""));
    }

    @Test
    void everyKernelMatchesItsReference() throws Exception {
        Run r = harness("kernel_tests", List.of("-O2"), NativeToolchain.kernelDir()).run(List.of());
        assertPassed(r);
    }

    @Test
    void everyKernelIsCleanUnderAddressAndUndefinedBehaviourSanitizers() throws Exception {
        Run r = harness("kernel_tests_asan", ASAN, NativeToolchain.kernelDir()).run(List.of());
        assertPassed(r);
        assertThat(r.output()).as(r.describe()).doesNotContain("AddressSanitizer", "LeakSanitizer", "runtime error:");
    }

    @Test
    void everyKernelIsRaceFreeUnderThreadSanitizer() throws Exception {
        // --small: every fiber is a TSan thread (costly to create, ~1 us per switch); still every kernel and path.
        Run r = harness("kernel_tests_tsan", TSAN, NativeToolchain.kernelDir()).run(List.of("--small", "--workers", "2"));
        assertPassed(r);
        assertThat(r.output()).as(r.describe()).doesNotContain("ThreadSanitizer");
    }

    /**
     * Mutation proof for the race check: without the {@code __syncthreads()} that ends each staging step of
     * gptq_matmul_batched, a fast thread overwrites the shared x tile for the next step while slower threads still
     * read this step's values (write-after-read on {@code xs}). TSan must report it as a data race.
     */
    @Test
    void removingTheBarrierThatGuardsSharedMemoryIsADataRace() throws Exception {
        // a fixed directory under target/, so an unchanged mutant is a build-cache hit on the next run
        Path mutated = Files.createDirectories(Path.of("target/cudasim-mutants/gptq-staging-barrier").toAbsolutePath());
        String source = Files.readString(NativeToolchain.kernelDir().resolve("gptq_matmul.cu"));
        Path copy = mutated.resolve("gptq_matmul.cu");
        String mutant = withoutStagingBarrier(source);
        if (!Files.exists(copy) || !Files.readString(copy).equals(mutant)) Files.writeString(copy, mutant);
        // -I of the mutated copy first: the harness's #include "gptq_matmul.cu" finds it before the original
        Build b = harness("kernel_tests_tsan_mutant", TSAN, mutated, NativeToolchain.kernelDir());
        Run r = b.run(List.of("--small", "--workers", "2", "--filter", "gptq batched"));
        assertThat(r.exit()).as(r.describe()).isNotZero();
        assertThat(r.output()).as(r.describe()).contains("WARNING: ThreadSanitizer: data race")
                .contains("gptq_batched_body");
    }

    /**
     * Mutation proof for the emulated async copies: without the {@code __syncthreads()} after each
     * {@code cp.async.wait_group} of gptq_mma_gemm, a warp's {@code ldmatrix} reads A rows that other threads'
     * copies (writes of those threads at their wait) have not been ordered before. TSan must report the race, and
     * the result is wrong as well (rows read before they arrive).
     */
    @Test
    void removingTheBarrierAfterTheAsyncCopiesIsADataRace() throws Exception {
        Run r = tsanMutant("gptq-mma-stage-barrier", "gptq_mma.cu", "__syncthreads();          // stage s visible",
                "/* barrier removed */    // stage s visible", "gptq mma M=9 K=256 N=192");
        assertThat(r.exit()).as(r.describe()).isNotZero();
        assertThat(r.output()).as(r.describe()).contains("WARNING: ThreadSanitizer: data race").contains("gm_body")
                .contains("FAIL gptq mma");
    }

    /**
     * Mutation proof for the split-K hand-over of gptq_mma_gemm: without the {@code __threadfence()} between a
     * slice's partial-sum stores and its count on the tile's counter, the block that counts last reads partials
     * that nothing orders before its reads (the count itself is a relaxed atomic). TSan must report the race.
     */
    @Test
    void removingTheFenceBeforeTheSplitKCountIsADataRace() throws Exception {
        // eight slices of one tile over two workers: some slice's stores and the last block's reads cross workers
        Run r = tsanMutant("gptq-mma-split-fence", "gptq_mma.cu", "__threadfence();   // this thread's partials",
                "/* fence removed */ // this thread's partials", "gptq mma M=17 K=384 N=128 g=128 act bias splitK=8");
        assertThat(r.exit()).as(r.describe()).isNotZero();
        assertThat(r.output()).as(r.describe()).contains("WARNING: ThreadSanitizer: data race").contains("gm_body");
    }

    /**
     * The TSan harness built against a copy of kernel source {@code file} in which {@code needle} (there exactly once)
     * is replaced, run on the cases {@code filter} names; the copy lives in a fixed directory under target/, so an
     * unchanged mutant is a build-cache hit.
     */
    private static Run tsanMutant(String name, String file, String needle, String replacement, String filter)
            throws Exception {
        Path mutated = Files.createDirectories(Path.of("target/cudasim-mutants/" + name).toAbsolutePath());
        String source = Files.readString(NativeToolchain.kernelDir().resolve(file));
        assertThat(source).as("%s in %s", needle, file).containsOnlyOnce(needle);
        String mutant = source.replace(needle, replacement);
        Path copy = mutated.resolve(file);
        if (!Files.exists(copy) || !Files.readString(copy).equals(mutant)) Files.writeString(copy, mutant);
        Build b = harness("kernel_tests_tsan_" + name.replace('-', '_'), TSAN, mutated, NativeToolchain.kernelDir());
        return b.run(List.of("--small", "--workers", "2", "--filter", filter));
    }

    /** ASan sees device reads through the emulation: past the end of a global buffer and of a __shared__ array. */
    @Test
    void outOfBoundsDeviceReadsAreAddressSanitizerReports() throws Exception {
        // ASan alone: UBSan's bounds and object-size checks would report these reads first
        List<String> asanOnly = List.of("-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer");
        Build b = build("asan_probe", List.of(NativeToolchain.sourceDir().resolve("asan_probe.cpp")), asanOnly,
                NativeToolchain.kernelDir());
        Run global = b.run(List.of("global"));
        assertThat(global.exit()).as(global.describe()).isNotZero();
        assertThat(global.output()).as(global.describe()).contains("ERROR: AddressSanitizer: heap-buffer-overflow")
                .contains("rmsnorm_f32").doesNotContain("no sanitizer report");
        Run shared = b.run(List.of("shared"));
        assertThat(shared.exit()).as(shared.describe()).isNotZero();
        assertThat(shared.output()).as(shared.describe()).contains("ERROR: AddressSanitizer: global-buffer-overflow")
                .contains("probe_shared_oob").doesNotContain("no sanitizer report");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** The source with the second __syncthreads() of gptq_batched_body (the end of a staging step) removed. */
    static String withoutStagingBarrier(String source) {
        int body = source.indexOf("static __device__ void gptq_batched_body(");
        assertThat(body).as("gptq_batched_body in gptq_matmul.cu").isNotNegative();
        int end = source.indexOf("extern \"C\" __global__ void gptq_matmul_batched(", body);
        Matcher m = Pattern.compile("__syncthreads\\(\\);").matcher(source).region(body, end);
        List<Integer> at = new ArrayList<>();
        while (m.find()) at.add(m.start());
        assertThat(at).as("the staging loop of gptq_batched_body has two barriers").hasSize(2);
        int cut = at.get(1);
        // same line count, so TSan's line numbers still match the original file
        return source.substring(0, cut) + "/* __syncthreads(); removed */" + source.substring(cut + 16);
    }

    private static Build harness(String name, List<String> flags, Path... includeDirs) throws IOException {
        List<Path> sources;
        try (Stream<Path> s = Files.list(NativeToolchain.sourceDir())) {
            sources = s.filter(p -> p.getFileName().toString().matches("kernel_tests.*\\.cpp")).sorted().toList();
        }
        assertThat(sources).hasSizeGreaterThanOrEqualTo(2);
        return build(name, sources, flags, includeDirs);
    }

    private static Build build(String name, List<Path> sources, List<String> flags, Path... includeDirs) {
        List<String> all = new ArrayList<>(flags);
        for (Path d : includeDirs) all.add("-I" + d);
        long t0 = System.nanoTime();
        Path exe = NativeToolchain.executable(name, sources, all);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("cudasim: %s built in %.1f s (%s)%n", name, s, exe);
        return new Build(exe);
    }

    private static void assertPassed(Run r) {
        assertThat(r.exit()).as(r.describe()).isZero();
        assertThat(r.output()).as(r.describe()).contains(" 0 failed").doesNotContain("\nFAIL ");
    }

    record Build(Path exe) {
        Run run(List<String> args) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(List.of(exe.toString()));
            cmd.addAll(args);
            Path log = Files.createTempFile("cudasim-run", ".log");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
                pb.environment().putAll(SANITIZER_ENV);
                long t0 = System.nanoTime();
                Process p = pb.start();
                boolean done = p.waitFor(RUN_LIMIT.toSeconds(), TimeUnit.SECONDS);
                if (!done) p.destroyForcibly().waitFor();
                double s = (System.nanoTime() - t0) / 1e9;
                String out = Files.readString(log, StandardCharsets.UTF_8);
                int exit = done ? p.exitValue() : -1;
                System.out.printf("cudasim: %s ran in %.1f s, exit %d%n", String.join(" ", cmd), s, exit);
                return new Run(String.join(" ", cmd), exit, done ? out : out + "\n[killed after " + RUN_LIMIT + "]");
            } finally {
                Files.deleteIfExists(log);
            }
        }
    }

    record Run(String command, int exit, String output) {
        /** The command, its exit code and (the end of) its output, for assertion messages. */
        String describe() {
            String tail = output.length() > 30_000 ? "...\n" + output.substring(output.length() - 30_000) : output;
            return "$ " + command + "\nexit " + exit + "\n" + tail;
        }
    }
}
