package io.paddock.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/** {@code paddock.http.*}: the body limit's default, its units, and a refusal of nonsense at start-up. */
class HttpPropertiesTests {
    private final ApplicationContextRunner runner = new ApplicationContextRunner().withUserConfiguration(Config.class);

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(HttpProperties.class)
    static class Config {}

    @Test
    void theBodyLimitDefaultsToFourMegabytes() {
        runner.run(ctx -> assertThat(ctx.getBean(HttpProperties.class).maxBodyBytes().toBytes()).isEqualTo(4L << 20));
    }

    @Test
    void theBodyLimitTakesBytesOrUnits() {
        runner.withPropertyValues("paddock.http.max-body-bytes=1000").run(ctx ->
                assertThat(ctx.getBean(HttpProperties.class).maxBodyBytes().toBytes()).isEqualTo(1000));
        runner.withPropertyValues("paddock.http.max-body-bytes=512KB").run(ctx ->
                assertThat(ctx.getBean(HttpProperties.class).maxBodyBytes().toBytes()).isEqualTo(512 * 1024));
    }

    @Test
    void aLimitOfZeroOrOverTwoGigabytesFailsTheStart() {
        runner.withPropertyValues("paddock.http.max-body-bytes=0").run(ctx -> assertThat(ctx).hasFailed());
        runner.withPropertyValues("paddock.http.max-body-bytes=3GB").run(ctx -> assertThat(ctx).hasFailed());
    }
}
