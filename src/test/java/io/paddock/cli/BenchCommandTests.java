package io.paddock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.bench.GptqMatVecBench;
import io.paddock.bench.MatVecBench;
import io.paddock.format.DType;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code paddock bench matvec} and {@code bench gptq-matvec}: parsed by {@link CliArgs} in {@link BenchCommand}. */
class BenchCommandTests {
    private static final int CORES = Runtime.getRuntime().availableProcessors();

    @Test
    void matvecDefaults() {
        MatVecBench.Options o = BenchCommand.matvecOptions(new String[0]);
        assertThat(o.threads()).isEqualTo(CORES);
        assertThat(o.shapes()).containsExactly(new int[] {11008, 4096}, new int[] {4096, 11008});
        assertThat(o.seconds()).isEqualTo(2.0);
        assertThat(o.dtypes()).containsExactly(DType.F32, DType.F16, DType.BF16);
        assertThat(o.batch()).isEqualTo(1);
        assertThat(o.bandwidthBytes()).isEqualTo(512L << 20);
        assertThat(o.misalign()).isZero();
    }

    @Test
    void matvecEveryOption() {
        MatVecBench.Options o = BenchCommand.matvecOptions(new String[] {"--threads", "3", "--rows", "64", "--cols",
                "128", "--seconds", "0.5", "--dtypes", "bf16, F32", "--batch", "4", "--bandwidth-mb=8", "--misalign", "2"});
        assertThat(o.threads()).isEqualTo(3);
        assertThat(o.shapes()).containsExactly(new int[] {64, 128});
        assertThat(o.seconds()).isEqualTo(0.5);
        assertThat(o.dtypes()).containsExactly(DType.BF16, DType.F32);
        assertThat(o.batch()).isEqualTo(4);
        assertThat(o.bandwidthBytes()).isEqualTo(8L << 20);
        assertThat(o.misalign()).isEqualTo(2);
    }

    @Test
    void matvecMistakesAreUsageErrorsWithTheUsage() {
        assertMatvecError("unknown option --bogus", "--bogus", "1");
        assertMatvecError("option --seconds needs a value", "--seconds");
        assertMatvecError("option --threads expects an integer, got 'x'", "--threads", "x");
        assertMatvecError("--rows and --cols go together", "--rows", "64");
        assertMatvecError("--seconds must be > 0", "--seconds", "0");
        assertMatvecError("--misalign must be 0..63", "--misalign", "64");
        assertMatvecError("--threads must be >= 1", "--threads", "0");
        assertMatvecError("--batch must be >= 1", "--batch", "0");
        assertMatvecError("--bandwidth-mb must be >= 1", "--bandwidth-mb", "0");
        assertMatvecError("--dtypes expects F32, F16 or BF16 (comma-separated), got 'I32'", "--dtypes", "F32,I32");
        assertMatvecError("unexpected argument 'extra'", "extra");
    }

    @Test
    void gptqMatvecDefaults() {
        GptqMatVecBench.Options o = BenchCommand.gptqMatvecOptions(new String[0]);
        assertThat(o.threads()).isEqualTo(CORES);
        assertThat(o.seconds()).isEqualTo(1.0);
        assertThat(o.batches()).containsExactly(1, 4, 16);
        assertThat(o.variants()).containsExactly(new GptqMatVecBench.Variant("4g128act", 4, 128, true),
                new GptqMatVecBench.Variant("4g128", 4, 128, false), new GptqMatVecBench.Variant("3g128act", 3, 128, true),
                new GptqMatVecBench.Variant("2g128", 2, 128, false), new GptqMatVecBench.Variant("8g128", 8, 128, false));
        assertThat(o.shapes()).containsExactly(new int[] {11008, 4096}, new int[] {4096, 11008}, new int[] {4096, 4096});
        assertThat(o.bandwidthBytes()).isEqualTo(512L << 20);
    }

    @Test
    void gptqMatvecEveryOption() {
        GptqMatVecBench.Options o = BenchCommand.gptqMatvecOptions(new String[] {"--threads", "2", "--seconds", "0.25",
                "--batches", "1, 8", "--variants", "3g-1act,8g32", "--shapes", "256x512", "--bandwidth-mb", "16"});
        assertThat(o.threads()).isEqualTo(2);
        assertThat(o.seconds()).isEqualTo(0.25);
        assertThat(o.batches()).containsExactly(1, 8);
        assertThat(o.variants()).containsExactly(new GptqMatVecBench.Variant("3g-1act", 3, -1, true),
                new GptqMatVecBench.Variant("8g32", 8, 32, false));
        assertThat(o.shapes()).containsExactly(new int[] {256, 512});
        assertThat(o.bandwidthBytes()).isEqualTo(16L << 20);
    }

    @Test
    void gptqMatvecMistakesAreUsageErrorsWithTheUsage() {
        assertGptqError("unknown option --rows", "--rows", "64");
        assertGptqError("--threads must be >= 1", "--threads", "0");
        assertGptqError("--seconds must be > 0", "--seconds", "-1");
        assertGptqError("--bandwidth-mb must be >= 1", "--bandwidth-mb", "0");
        assertGptqError("--batches expects a list of integers >= 1 like 1,4,16, got '0'", "--batches", "1,0");
        assertGptqError("--variants: '5g128' is not like 4g128act", "--variants", "5g128");
        assertGptqError("--variants: 'g128' is not like 4g128act", "--variants", "g128");
        assertGptqError("--variants: '4gxact' is not like 4g128act", "--variants", "4gxact");
        assertGptqError("--variants: '4g0': ", "--variants", "4g0");
        assertGptqError("--shapes expects OUTxIN pairs like 11008x4096,4096x4096, got '4096'", "--shapes", "4096");
        assertGptqError("--batches needs at least one value", "--batches", ",");
    }

    @Test
    void helpPrintsTheBenchmarksOwnUsage() {
        assertThat(bench("matvec", "--help")).startsWith("usage: paddock bench matvec").contains("--misalign BYTES");
        assertThat(bench("gptq-matvec", "-h")).startsWith("usage: paddock bench gptq-matvec").contains("--variants");
        assertThat(Usage.of("bench")).contains("--misalign BYTES").contains("--shapes 11008x4096");
    }

    @Test
    void unknownBenchmarkIsAUsageError() {
        assertThatThrownBy(() -> bench("nope")).isInstanceOf(CliArgs.UsageException.class)
                .hasMessageContaining("unknown benchmark 'nope'");
        assertThatThrownBy(() -> bench("matvec", "--bogus")).isInstanceOf(CliArgs.UsageException.class)
                .hasMessageStartingWith("unknown option --bogus\nusage: paddock bench matvec");
    }

    private static void assertMatvecError(String message, String... args) {
        assertThatThrownBy(() -> BenchCommand.matvecOptions(args)).isInstanceOf(CliArgs.UsageException.class)
                .hasMessageStartingWith(message).hasMessageContaining("\nusage: paddock bench matvec ");
    }

    private static void assertGptqError(String message, String... args) {
        assertThatThrownBy(() -> BenchCommand.gptqMatvecOptions(args)).isInstanceOf(CliArgs.UsageException.class)
                .hasMessageStartingWith(message).hasMessageContaining("\nusage: paddock bench gptq-matvec ");
    }

    private static String bench(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        BenchCommand.run(args, out, out, (model, threads, seqs) -> {
            throw new AssertionError("no server");
        });
        return buf.toString(StandardCharsets.UTF_8);
    }
}
