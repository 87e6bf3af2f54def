package io.paddock.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.cli.CliArgs;
import io.paddock.cli.LoraCommand;
import io.paddock.cli.Usage;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.testing.SharedModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code paddock lora merge}: its summary line and its mistakes (one usage line, exit code 2 in Paddock.main). */
class LoraCommandTests {
    @TempDir
    Path tmp;

    private static String run(String... args) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int code = LoraCommand.run(args, new PrintStream(b, true, StandardCharsets.UTF_8));
        assertThat(code).isZero();
        return b.toString(StandardCharsets.UTF_8);
    }

    private static void mistake(String message, String... args) {
        assertThatThrownBy(() -> run(args)).isInstanceOf(CliArgs.UsageException.class).hasMessageStartingWith(message);
    }

    @Test
    void mergesAndSummarises() {
        Path out = tmp.resolve("m");
        String text = run("merge", "--base", SharedModels.require("stories260K-padded").toString(), "--adapter",
                SharedModels.require("stories260K-lora-all-bin").toString(), "--out", out.toString(), "--dtype", "bf16");
        assertThat(text).startsWith("wrote " + out + ": 35 linear layers merged, ").contains(" as BF16, ");
        try (LlamaCheckpoint c = LlamaCheckpoint.open(out)) {
            assertThat(c.config().torchDtype()).isEqualTo("bfloat16");
        }
    }

    @Test
    void mistakesAreOneLine() {
        String base = SharedModels.require("stories260K").toString(), qv = SharedModels.require("stories260K-lora-qv").toString();
        String missing = tmp.resolve("nope").toString(), out = tmp.resolve("o").toString();
        mistake("lora needs a subcommand: merge");
        mistake("unknown lora subcommand 'split' (known: merge)", "split");
        mistake("--base DIR is required", "merge", "--adapter", qv, "--out", out);
        mistake("--base " + missing + ": directory not found", "merge", "--base", missing, "--adapter", qv, "--out", out);
        mistake("--adapter " + missing + ": directory not found", "merge", "--base", base, "--adapter", missing, "--out", out);
        mistake("--out DIR is required", "merge", "--base", base, "--adapter", qv);
        mistake("--dtype must be f16, bf16 or f32, got 'f8'", "merge", "--base", base, "--adapter", qv, "--out", out, "--dtype", "f8");
        mistake("unknown option --bits", "merge", "--bits", "4");
        mistake("unexpected argument 'extra'", "merge", "extra");
        // an adapter that does not fit: the loader's message, which Paddock.main prints with exit code 1
        assertThatThrownBy(() -> run("merge", "--base", base, "--adapter", SharedModels.require("stories260K-lora-bad-shape").toString(),
                "--out", out)).isInstanceOf(AdapterLoadException.class).hasMessageContaining("[4, 72], expected [4, 64]");
        assertThat(Usage.of("lora")).contains("lora      merge --base DIR --adapter DIR --out DIR");
    }
}
