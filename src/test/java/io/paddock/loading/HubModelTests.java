package io.paddock.loading;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.engine.EngineConfig;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
import io.paddock.engine.Stories260KExpected;
import io.paddock.hub.HubException;
import io.paddock.hub.HubSettings;
import io.paddock.model.GptqOverrides;
import io.paddock.sampling.SamplingParams;
import io.paddock.testing.MockHub;
import io.paddock.testing.SharedModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --model ORG/NAME[:REVISION]}: pulled from a local mock hub into the cache, loaded, and generating. */
class HubModelTests {
    private static final String REPO = "paddock-test/stories260K-GPTQ";

    private static String greedy(LoadedModel model, int tokens) {
        try (GenerationService g = new GenerationService(model, EngineConfig.defaults().withMaxNumSeqs(1))) {
            GenerationResult r = g.generate(new GenerationRequest(g.model().encodePrompt(""), tokens,
                    SamplingParams.greedy(), List.of(), false), t -> {});
            return r.text();
        }
    }

    @Test
    void aHubModelIsPulledThenServedFromTheCache(@TempDir Path cache) {
        Path fp32 = SharedModels.require("stories260K");
        Path actOrder = SharedModels.require("stories260K-gptq-4bit-32g-actorder");
        try (MockHub hub = new MockHub()) {
            hub.add(REPO, "refs/pr/1", fp32, Map.of(), null);
            hub.add(REPO, "gptq-4bit-32g-actorder_True", actOrder, Map.of(), null);
            HubSettings settings = new HubSettings(hub.endpoint(), null, cache, false);
            var log = new ByteArrayOutputStream();
            PrintStream err = new PrintStream(log, true, StandardCharsets.UTF_8);

            LoadedModel fp = ModelCatalog.open(REPO + ":refs/pr/1", 1, GptqOverrides.NONE, "cpu", err, () -> settings);
            assertThat(fp.id()).isEqualTo(REPO + ":refs/pr/1");
            assertThat(greedy(fp, 200)).isEqualTo(Stories260KExpected.GREEDY_200);

            String gptq = REPO + ":gptq-4bit-32g-actorder_True";
            String first = greedy(ModelCatalog.open(gptq, 1, GptqOverrides.NONE, "cpu", err, () -> settings), 40);
            assertThat(first).startsWith("Once upon a time");
            long downloads = hub.downloads();
            // the second start is served from the cache: no request at all
            int requests = hub.requests.size();
            String again = greedy(ModelCatalog.open(gptq, 1, GptqOverrides.NONE, "cpu", err, () -> settings), 40);
            assertThat(again).isEqualTo(first);
            assertThat(hub.requests).hasSize(requests);
            assertThat(hub.downloads()).isEqualTo(downloads);
            // and, offline, from the cache too
            HubSettings offline = new HubSettings(hub.endpoint(), null, cache, true);
            assertThat(greedy(ModelCatalog.open(gptq, 1, GptqOverrides.NONE, "cpu", err, () -> offline), 40))
                    .isEqualTo(first);
            assertThat(log.toString(StandardCharsets.UTF_8)).contains("model.safetensors done");
        }
    }

    @Test
    void aMissingHubModelIsOneHubError(@TempDir Path cache) {
        try (MockHub hub = new MockHub()) {
            HubSettings settings = new HubSettings(hub.endpoint(), null, cache, false);
            assertThatThrownBy(() -> ModelCatalog.open("nobody/nothing", 1, GptqOverrides.NONE, "cpu",
                    new PrintStream(new ByteArrayOutputStream()), () -> settings))
                    .isInstanceOf(HubException.class).hasMessageStartingWith("repository nobody/nothing not found");
        }
    }
}
