package io.paddock.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RateLimitHeadersTests {
    private static String reset(Duration d) {
        return RateLimitHeaders.reset(d.toNanos());
    }

    @Test
    void resetIsWrittenAsOpenAiWritesIt() {
        assertThat(reset(Duration.ZERO)).isEqualTo("0s");
        assertThat(RateLimitHeaders.reset(1)).isEqualTo("1ms");
        assertThat(reset(Duration.ofMillis(17))).isEqualTo("17ms");
        assertThat(reset(Duration.ofSeconds(1))).isEqualTo("1s");
        assertThat(reset(Duration.ofMillis(2500))).isEqualTo("2.5s");
        assertThat(reset(Duration.ofMillis(1020))).isEqualTo("1.02s");
        assertThat(reset(Duration.ofMinutes(6))).isEqualTo("6m0s");
        assertThat(reset(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(reset(Duration.ofSeconds(3723))).isEqualTo("1h2m3s");
        assertThat(reset(Duration.ofHours(1))).isEqualTo("1h0m0s");
    }

    @Test
    void retryAfterIsWholeSecondsRoundedUpAtLeastOne() {
        assertThat(RateLimitHeaders.retryAfter(0)).isEqualTo("1");
        assertThat(RateLimitHeaders.retryAfter(Duration.ofMillis(1001).toNanos())).isEqualTo("2");
        assertThat(RateLimitHeaders.retryAfter(Duration.ofSeconds(20).toNanos())).isEqualTo("20");
    }
}
