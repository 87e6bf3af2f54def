package io.paddock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.engine.Stories260KExpected;
import io.paddock.testing.MockHub;
import io.paddock.testing.SharedModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./paddock pull}, {@code generate} and {@code serve} with a hub model, against a local mock hub. */
class HubLauncherIT {
    private static final String REPO = "paddock-test/stories260K-GPTQ";

    @Test
    void pullThenGenerateFromTheCacheAndOffline(@TempDir Path home) throws Exception {
        Path fp32 = SharedModels.require("stories260K");
        try (MockHub hub = new MockHub()) {
            String commit = hub.add(REPO, "refs/pr/1", fp32, Map.of(), null);
            var env = Map.of("HF_ENDPOINT", hub.endpoint().toString(), "HF_HOME", home.toString());
            LauncherIT.Run pull = LauncherIT.paddock(env, "pull", REPO + ":refs/pr/1");
            assertThat(pull.code()).as(pull.err()).isZero();
            assertThat(pull.out().trim()).isEqualTo(home.resolve("hub/models--paddock-test--stories260K-GPTQ/snapshots")
                    .resolve(commit).toString());
            assertThat(pull.err()).contains("  model.safetensors done");
            long downloads = hub.downloads();

            LauncherIT.Run gen = LauncherIT.paddock(env, "generate", "--model", REPO + ":refs/pr/1", "--prompt", "", "--max-tokens", "200",
                    "--temperature", "0");
            assertThat(gen.code()).as(gen.err()).isZero();
            assertThat(gen.out()).isEqualTo(Stories260KExpected.GREEDY_200);
            assertThat(hub.downloads()).isEqualTo(downloads);

            var offline = Map.of("HF_ENDPOINT", "http://127.0.0.1:9", "HF_HOME", home.toString(), "HF_HUB_OFFLINE", "1");
            LauncherIT.Run off = LauncherIT.paddock(offline, "generate", "--model", REPO + ":refs/pr/1", "--prompt", "", "--max-tokens", "20",
                    "--temperature", "0");
            assertThat(off.code()).as(off.err()).isZero();
            assertThat(Stories260KExpected.GREEDY_200).startsWith(off.out());
        }
    }

    @Test
    void hubFailuresAreOneLine(@TempDir Path home) throws Exception {
        try (MockHub hub = new MockHub()) {
            var env = Map.of("HF_ENDPOINT", hub.endpoint().toString(), "HF_HOME", home.toString());
            LauncherIT.Run gen = LauncherIT.paddock(env, "generate", "--model", "nobody/nothing", "--prompt", "", "--max-tokens", "1");
            assertThat(gen.code()).isEqualTo(1);
            assertThat(gen.err()).contains("paddock: repository nobody/nothing not found").doesNotContain("\tat ");

            LauncherIT.Run pull = LauncherIT.paddock(env, "pull", "nobody/nothing:v2");
            assertThat(pull.code()).isEqualTo(1);
            List<String> lines = pull.err().lines().filter(l -> !l.startsWith("WARNING: Using incubator")).toList();
            assertThat(lines).singleElement().asString().startsWith("paddock: repository nobody/nothing not found");

            LauncherIT.Run serve = LauncherIT.paddock(env, "serve", "--model", "nobody/nothing", "--port", "0");
            assertThat(serve.code()).isEqualTo(1);
            assertThat(serve.out() + serve.err()).contains("The hub model could not be pulled: repository nobody/nothing")
                    .doesNotContain("\tat ");
        }
    }
}
