package io.paddock.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The official OpenAI JavaScript SDK against a server with API keys, on the built-in demo model: a key allowed one
 * request per 2-second window, so that the SDK's own retry of a 429 (after Retry-After) succeeds.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "paddock.auth.keys[0].name=node", "paddock.auth.keys[0].key=sk-node-test",
        "paddock.auth.keys[0].requests-per-minute=1", "paddock.auth.limit-window=2s"})
class OpenAiNodeRateLimitIT {
    private static final Path SCRIPT_DIR = Path.of("src/test/js");

    @LocalServerPort
    int port;

    @Test
    void officialJavaScriptClientRetriesAfterA429() throws Exception {
        assumeTrue(Files.isDirectory(SCRIPT_DIR.resolve("node_modules/openai")),
                "skipped: the openai npm package is not installed (run: npm install --prefix src/test/js)");
        assumeTrue(new ProcessBuilder("node", "--version").start().waitFor() == 0, "skipped: node is not installed");
        Process p = new ProcessBuilder("node", "openai-rate-limit.mjs", "http://localhost:" + port + "/v1",
                "paddock-demo-random", "sk-node-test").directory(SCRIPT_DIR.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        System.out.print(out);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("retried after a 429", "all checks passed");
    }
}
