package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.paddock.engine.AdapterRegistry;
import io.paddock.engine.EngineConfig;
import io.paddock.engine.EngineObserver;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
import io.paddock.engine.LoraConfig;
import io.paddock.engine.ModelRegistry;
import io.paddock.engine.RequestRejectedException;
import io.paddock.loading.LoadedModel;
import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraModule;
import io.paddock.metrics.PaddockMetrics;
import io.paddock.model.DemoModel;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.sampling.SamplingParams;
import io.paddock.security.ApiKeys;
import io.paddock.testing.LoraTesting;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** The unload endpoint waits for the adapter's requests in flight, and says 409 when they outlast the timeout. */
class LoraAdaptersControllerTests {
    @TempDir Path tmp;
    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void unloadOutlastedByARequestInFlightIs409AndTheAdapterGoesLater() throws Exception {
        Path dir = DemoModel.materialize(tmp);
        LoraAdapter qv;
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir)) {
            qv = LoraTesting.randomAdapter("qv", c.weights().config(), 4, 8, Set.of(LoraModule.Q, LoraModule.V), 0.5, 1);
        }
        LoadedModel model = LoadedModel.load("demo", "", dir, 1);
        GenerationService service = new GenerationService(model, EngineConfig.defaults(), EngineObserver.NONE,
                new AdapterRegistry(LoraConfig.defaults(), (n, d) -> qv));
        try (ModelRegistry models = new ModelRegistry(List.of(service))) {
            service.adapters().add("qv", qv);
            RequestMapper mapper = new RequestMapper(models, null, json, new PaddockMetrics(new SimpleMeterRegistry()));
            var controller = new LoraAdaptersController(models, mapper, new ApiKeys(List.of()), Duration.ofMillis(1));
            int[] prompt = model.encodePrompt("Once");
            CompletableFuture<GenerationResult> running = service.submit(new GenerationRequest(prompt,
                    model.contextLength() - prompt.length, SamplingParams.greedy(), List.of(), true,
                    GenerationRequest.ANONYMOUS, "qv"));

            assertThatThrownBy(() -> controller.unload(json.readTree("{\"lora_name\":\"qv\"}"), null).block())
                    .isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                        assertThat(e.reason()).isEqualTo(RequestRejectedException.Reason.CONFLICT);
                        assertThat(OpenAiError.rejected(e).status().value()).isEqualTo(409);
                    })
                    .hasMessageContaining("takes no new requests and will be removed when its 1 in-flight request");
            assertThatThrownBy(() -> models.resolve("qv")).isInstanceOf(RequestRejectedException.class);
            running.get(120, TimeUnit.SECONDS);
            assertThat(service.awaitIdle(Duration.ofSeconds(10))).isTrue();
            assertThat(service.adapters().contains("qv")).isFalse();

            assertThatThrownBy(() -> controller.load(json.readTree("{\"lora_name\":\"x\"}"), null))
                    .isInstanceOfSatisfying(RequestRejectedException.class,
                            e -> assertThat(e.param()).isEqualTo("lora_path"));
        }
    }
}
