package io.paddock.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.engine.EngineConfig;
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
}
