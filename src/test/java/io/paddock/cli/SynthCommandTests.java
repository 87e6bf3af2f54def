package io.paddock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.model.GptqSpec;
import io.paddock.model.LlamaCheckpoint;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code paddock synth}: parsed by {@link CliArgs} like every other command. */
class SynthCommandTests {
    @TempDir
    Path tmp;

    @Test
    void commandLineWritesAndSummarises() {
        Path out = tmp.resolve("cli");
        String text = run("--shape", "tiny", "--bits", "3", "--group-size", "-1", "--layers", "1", "--seed", "5",
                "--out", out.toString());
        assertThat(text).startsWith("wrote " + out + ": tiny 1 layer, GPTQ 3-bit no groups, ");
        try (LlamaCheckpoint c = LlamaCheckpoint.open(out)) {
            assertThat(c.gptqSpec()).contains(new GptqSpec(3, -1, false, true, true));
        }
        String f16 = run("--shape", "tiny", "--dtype", "f16", "--act-order", "--out", tmp.resolve("f").toString());
        assertThat(f16).contains("tiny 2 layers, F16").contains("ignored with --dtype f16");
    }

    @Test
    void commandLineMistakesAreOneUsageLine() {
        String o = tmp.resolve("x").toString();
        assertMistake("--shape: unknown shape 'llama-8b' (known: tiny, llama-7b, llama-13b, llama-33b, llama-65b)",
                "--shape", "llama-8b", "--out", o);
        assertMistake("--bits must be 2, 3, 4 or 8, got 5", "--shape", "tiny", "--bits", "5", "--out", o);
        assertMistake("--group-size 100: shape tiny: 256 input features do not split into groups of 100",
                "--shape", "tiny", "--group-size", "100", "--out", o);
        assertMistake("--group-size must be -1 (no groups) or positive, got 0", "--shape", "tiny", "--group-size", "0",
                "--out", o);
        assertMistake("--layers must be positive, got 0", "--shape", "tiny", "--layers", "0", "--out", o);
        assertMistake("--dtype must be gptq or f16, got 'bf16'", "--shape", "tiny", "--dtype", "bf16", "--out", o);
        assertMistake("option --seed expects an integer, got 'x'", "--shape", "tiny", "--seed", "x", "--out", o);
        assertMistake("--out DIR is required", "--shape", "tiny");
        assertMistake("option --out needs a value", "--shape", "tiny", "--out");
        assertMistake("unknown option --colour", "--shape", "tiny", "--colour", "red", "--out", o);
        assertThat(Files.exists(tmp.resolve("x"))).isFalse();
    }

    private static void assertMistake(String message, String... args) {
        assertThatThrownBy(() -> run(args)).isInstanceOf(CliArgs.UsageException.class).hasMessage(message);
    }

    private static String run(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        assertThat(SynthCommand.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8))).isZero();
        return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }
}
