package io.paddock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.loading.LoadedModel;
import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraModule;
import io.paddock.model.DemoModel;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.testing.LoraTesting;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model ids and adapter names share one name space; a request's model resolves to an engine and an adapter. */
class ModelRegistryTests {
    @TempDir static Path tmp;
    static Path dir;
    static LoraAdapter qv;

    @BeforeAll
    static void setUp() {
        dir = DemoModel.materialize(tmp);
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir)) {
            qv = LoraTesting.randomAdapter("qv", c.weights().config(), 4, 8, Set.of(LoraModule.Q, LoraModule.V), 0.5, 1);
        }
    }

    private static GenerationService service(String id) {
        return new GenerationService(LoadedModel.load(id, "", dir, 1), EngineConfig.defaults(), EngineObserver.NONE,
                new AdapterRegistry(LoraConfig.defaults(), (name, d) -> {
                    if (d.toString().contains("bad")) throw new IllegalArgumentException("tensor 'x' has shape [1]");
                    return qv;
                }));
    }

    @Test
    void resolvesBasesAndAdapters() {
        GenerationService a = service("a"), b = service("b");
        b.adapters().add("tuned", qv);
        try (ModelRegistry r = new ModelRegistry(List.of(a, b))) {
            assertThat(r.resolve(null)).isEqualTo(new ModelRegistry.Resolved(a, null));
            assertThat(r.resolve("b")).isEqualTo(new ModelRegistry.Resolved(b, null));
            assertThat(r.resolve("tuned")).isEqualTo(new ModelRegistry.Resolved(b, "tuned"));
            assertThat(r.resolve("tuned").modelName()).isEqualTo("tuned");
            assertThat(r.resolve("b").modelName()).isEqualTo("b");
            assertThat(r.find("tuned")).isEmpty();
            assertThatThrownBy(() -> r.resolve("nope")).isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                assertThat(e.reason()).isEqualTo(RequestRejectedException.Reason.NOT_FOUND);
                assertThat(e.code()).isEqualTo("model_not_found");
            });
        }
    }

    @Test
    void anAdapterNamedAsAModelIsRefusedAtStartAndAtRunTime() {
        GenerationService a = service("a"), b = service("b");
        a.adapters().add("b", qv);
        assertThatThrownBy(() -> new ModelRegistry(List.of(a, b))).hasMessageContaining("'b' has the id of a served model");
        GenerationService c = service("c"), d = service("d");
        c.adapters().add("x", qv);
        d.adapters().add("x", qv);
        assertThatThrownBy(() -> new ModelRegistry(List.of(c, d))).hasMessageContaining("served on both 'c' and 'd'");
        try (ModelRegistry r = new ModelRegistry(List.of(service("e"), service("f")))) {
            assertThatThrownBy(() -> r.loadAdapter("f", Path.of("/adapters/qv"), null))
                    .isInstanceOfSatisfying(RequestRejectedException.class,
                            e -> assertThat(e.param()).isEqualTo("lora_name"))
                    .hasMessageContaining("id of a served model");
            r.loadAdapter("qv", Path.of("/adapters/qv"), "f");
            assertThat(r.resolve("qv").service().model().id()).isEqualTo("f");
            assertThatThrownBy(() -> r.loadAdapter("qv", Path.of("/adapters/qv"), "e"))
                    .hasMessageContaining("has already been loaded");
            assertThatThrownBy(() -> r.loadAdapter("z", Path.of("/adapters/qv"), "nope"))
                    .isInstanceOfSatisfying(RequestRejectedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RequestRejectedException.Reason.NOT_FOUND));
            assertThatThrownBy(() -> r.loadAdapter("z", Path.of("/adapters/bad"), null))
                    .isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                        assertThat(e.reason()).isEqualTo(RequestRejectedException.Reason.INVALID_REQUEST);
                        assertThat(e.param()).isEqualTo("lora_path");
                    })
                    .hasMessageContaining("tensor 'x' has shape [1]");
        }
    }

    @Test
    void unloadFreesTheNameOnceDrained() throws Exception {
        try (ModelRegistry r = new ModelRegistry(List.of(service("a")))) {
            r.loadAdapter("qv", Path.of("/adapters/qv"), null);
            ModelRegistry.Unloading u = r.unloadAdapter("qv");
            u.drained().get(10, TimeUnit.SECONDS);
            assertThat(r.tryResolve("qv")).isEmpty();
            assertThatThrownBy(() -> r.unloadAdapter("qv")).isInstanceOfSatisfying(RequestRejectedException.class,
                    e -> assertThat(e.code()).isEqualTo("lora_adapter_not_found"));
            r.loadAdapter("qv", Path.of("/adapters/qv"), null);
            assertThat(r.resolve("qv").adapter()).isEqualTo("qv");
        }
    }
}
