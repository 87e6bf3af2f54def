package io.paddock.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paddock.testing.SharedModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The official OpenAI JavaScript SDK ({@code openai} on npm, installed by {@code .ci/run} into src/test/js) against
 * the real server: chat, streaming with usage, completions and errors.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@EnabledIf(value = "io.paddock.testing.SharedModels#stories260KAvailable", disabledReason = "../shared/models/stories260K is absent")
class OpenAiNodeClientIT {
    private static final Path SCRIPT_DIR = Path.of("src/test/js");

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry r) {
        r.add("paddock.model.path", () -> SharedModels.root().resolve("stories260K").toString());
    }

    @Test
    void officialJavaScriptClientWorksUnchanged() throws Exception {
        assumeTrue(Files.isDirectory(SCRIPT_DIR.resolve("node_modules/openai")),
                "skipped: the openai npm package is not installed (run: npm install --prefix src/test/js)");
        assumeTrue(new ProcessBuilder("node", "--version").start().waitFor() == 0, "skipped: node is not installed");
        Process p = new ProcessBuilder("node", "openai-client.mjs", "http://localhost:" + port + "/v1", "stories260K")
                .directory(SCRIPT_DIR.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("all checks passed");
    }
}
