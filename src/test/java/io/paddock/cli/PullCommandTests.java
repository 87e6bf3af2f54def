package io.paddock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.hub.HubSettings;
import io.paddock.testing.MockHub;
import io.paddock.testing.SharedModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PullCommandTests {
    private static final String REPO = "paddock-test/stories260K-GPTQ";

    record Run(int code, String out, String err) {}

    static Run pull(HubSettings settings, boolean terminal, String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int code = PullCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), settings, terminal);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void printsTheSnapshotOrFillsTheDirectory(@TempDir Path tmp) throws Exception {
        Path model = SharedModels.require("stories260K-gptq-4bit-32g-actorder");
        try (MockHub hub = new MockHub()) {
            String commit = hub.add(REPO, "gptq-4bit-32g-actorder_True", model, Map.of(), null);
            HubSettings settings = new HubSettings(hub.endpoint(), null, tmp.resolve("cache"), false);
            Run r = pull(settings, true, REPO + ":gptq-4bit-32g-actorder_True", "--include", "*.json");
            assertThat(r.code()).isZero();
            Path snapshot = tmp.resolve("cache/models--paddock-test--stories260K-GPTQ/snapshots").resolve(commit);
            assertThat(r.out().trim()).isEqualTo(snapshot.toString());
            assertThat(r.err()).contains("\r").contains("100% [").contains("files")
                    .contains("commit " + commit + ", 6 downloaded, 0 already cached");
            assertThat(snapshot.resolve("model.safetensors")).doesNotExist();

            Path dir = tmp.resolve("guanaco");
            Run d = pull(settings, false, REPO + ":gptq-4bit-32g-actorder_True", "--dir", dir.toString());
            assertThat(d.out().trim()).isEqualTo(dir.toString());
            assertThat(d.err()).contains("2 downloaded, 6 already cached").doesNotContain("\r");
            assertThat(Files.isSymbolicLink(dir.resolve("model.safetensors"))).isFalse();
            assertThat(Files.readAllBytes(dir.resolve("model.safetensors")))
                    .isEqualTo(Files.readAllBytes(model.resolve("model.safetensors")));
        }
    }

    @Test
    void argumentMistakesAreUsageErrors() {
        HubSettings settings = new HubSettings(java.net.URI.create("http://127.0.0.1:9"), null, Path.of("unused"), false);
        assertThatThrownBy(() -> pull(settings, false)).isInstanceOf(CliArgs.UsageException.class)
                .hasMessageContaining("ORG/NAME[:REVISION]");
        assertThatThrownBy(() -> pull(settings, false, "guanaco")).isInstanceOf(CliArgs.UsageException.class)
                .hasMessageContaining("expected ORG/NAME");
        assertThatThrownBy(() -> pull(settings, false, "a/b", "c/d")).isInstanceOf(CliArgs.UsageException.class)
                .hasMessageContaining("unexpected argument 'c/d'");
    }
}
