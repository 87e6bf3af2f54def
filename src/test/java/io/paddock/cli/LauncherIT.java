package io.paddock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.engine.Stories260KExpected;
import io.paddock.testing.SharedModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code ./paddock} launcher as a user runs it (the jar is built by the time integration tests run). */
class LauncherIT {

    record Run(int code, String out, String err) {}

    static Run paddock(String... args) throws IOException, InterruptedException {
        return paddock(Map.of(), args);
    }

    /**
     * Runs the launcher with {@code env} added to this process's environment, minus the Hugging Face hub settings
     * (a developer's own HF_* must not reach the tests).
     */
    static Run paddock(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("./paddock"));
        cmd.addAll(List.of(args));
        Path errFile = Files.createTempFile("paddock-err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(errFile.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("HF_") || k.equals("HUGGING_FACE_HUB_TOKEN"));
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(errFile);
        Files.delete(errFile);
        return new Run(p.exitValue(), out, err);
    }

    @Test
    void generatePrintsOnlyTheReferenceStory() throws Exception {
        Path model = SharedModels.require("stories260K");
        Run r = paddock("generate", "--model", model.toString(), "--prompt", "", "--max-tokens", "200",
                "--temperature", "0");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(Stories260KExpected.GREEDY_200);
    }

    @Test
    void tokenizePrintsIdsWithBos(@TempDir Path dir) throws Exception {
        Path model = SharedModels.require("stories260K");
        Files.copy(model.resolve("tokenizer.model"), dir.resolve("tokenizer.model"));
        Run r = paddock("tokenize", "--model", dir.toString(), "Once upon a time");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().trim()).startsWith("[1, ").endsWith("]");
        Files.delete(dir.resolve("tokenizer.model"));
        Files.copy(model.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        assertThat(paddock("tokenize", "--model", dir.toString(), "Once upon a time").out()).isEqualTo(r.out());
    }

    @Test
    void badModelDirectoryIsOneClearLine(@TempDir Path dir) throws Exception {
        Run r = paddock("generate", "--model", dir.toString(), "--prompt", "hi", "--max-tokens", "1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("config.json").doesNotContain("\tat ").doesNotContain("Exception");
    }

    @Test
    void serveWithABadAdapterStopsWithOneMessageNamingTheTensor() throws Exception {
        Path base = SharedModels.require("stories260K-padded");
        Path bad = SharedModels.require("stories260K-lora-bad-shape");
        Run r = paddock("serve", "--model", base.toString(), "--lora", "bad=" + bad, "--port", "0");
        assertThat(r.code()).isNotZero();
        assertThat(r.out() + r.err()).contains("The LoRA adapter could not be served").contains("'bad'")
                .contains("layers.0.self_attn.q_proj.lora_A").contains("[4, 72]");
    }

    @Test
    void badOptionIsAUsageError() throws Exception {
        Run r = paddock("generate", "--max-tokens", "many");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--max-tokens");
    }

    @Test
    void helpPrintsUsageAndSucceeds() throws Exception {
        Run all = paddock("--help");
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.out()).startsWith("usage: paddock <command>").contains("serve").contains("synth").contains("bench");
        for (String command : List.of("serve", "generate", "tokenize", "synth", "bench")) {
            Run r = paddock(command, "--help");
            assertThat(r.code()).as(command + ": " + r.err()).isZero();
            assertThat(r.out()).startsWith("usage: paddock " + command).contains("  " + command + " ");
            assertThat(r.err()).doesNotContain("unknown option");
        }
        assertThat(paddock("generate", "-h").out()).startsWith("usage: paddock generate");
    }
}
