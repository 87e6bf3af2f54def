package io.paddock.config;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.engine.EngineConfig;
import io.paddock.engine.LoraConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/** {@code paddock.engine.*} binds to the engine settings, whose defaults are defined once, in EngineConfig. */
class PaddockPropertiesTests {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(PaddockProperties.class)
    static class Bound {}

    private final ApplicationContextRunner runner = new ApplicationContextRunner().withUserConfiguration(Bound.class);

    @Test
    void unsetEnginePropertiesGiveEngineConfigDefaults() {
        runner.run(ctx -> assertThat(ctx.getBean(PaddockProperties.class).engine().engineConfig())
                .isEqualTo(EngineConfig.defaults()));
    }

    @Test
    void setEnginePropertiesOverrideTheDefaults() {
        runner.withPropertyValues("paddock.engine.block-size=32", "paddock.engine.kv-cache-memory=64MB",
                "paddock.engine.max-num-seqs=8", "paddock.engine.max-num-batched-tokens=1024",
                "paddock.engine.prefix-caching=false", "paddock.engine.max-queued=3").run(ctx ->
                assertThat(ctx.getBean(PaddockProperties.class).engine().engineConfig()).isEqualTo(
                        new EngineConfig(32, 64L << 20, 8, 1024, false, 3)));
    }

    @Test
    void loraDefaultsAreLoraConfigsAndAdaptersAreNameEqualsDir() {
        runner.run(ctx -> {
            PaddockProperties.Lora lora = ctx.getBean(PaddockProperties.class).lora();
            assertThat(lora.loraConfig()).isEqualTo(LoraConfig.defaults());
            assertThat(lora.entries()).isEmpty();
            assertThat(lora.runtimeUpdates()).isTrue();
            assertThat(lora.unloadTimeout()).isEqualTo(Duration.ofSeconds(60));
        });
        runner.withPropertyValues("paddock.lora.adapters=sql=/a/sql,chat = /b/c=d", "paddock.lora.max-loras=2",
                "paddock.lora.max-rank=16", "paddock.lora.max-cpu-loras=1", "paddock.lora.runtime-updates=false")
                .run(ctx -> {
                    PaddockProperties.Lora lora = ctx.getBean(PaddockProperties.class).lora();
                    assertThat(lora.entries()).containsExactly(new PaddockProperties.Lora.Entry("sql", "/a/sql"),
                            new PaddockProperties.Lora.Entry("chat", "/b/c=d"));
                    assertThat(lora.loraConfig()).isEqualTo(new LoraConfig(2, 16, 2)); // cpu cache >= slots
                    assertThat(lora.runtimeUpdates()).isFalse();
                });
        assertThatThrownBy(() -> PaddockProperties.Lora.entry("just-a-dir")).hasMessageContaining("is not NAME=DIR");
        assertThatThrownBy(() -> PaddockProperties.Lora.entry("=dir")).hasMessageContaining("is not NAME=DIR");
    }
}
