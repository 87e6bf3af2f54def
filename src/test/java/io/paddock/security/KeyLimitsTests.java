package io.paddock.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyLimitsTests {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    /** The token bucket's clock stands still: no refill between two lines of a test. */
    private KeyLimits limits(int rpm, int tpm, int concurrent) {
        ApiKey key = new ApiKey("alice", ApiKey.sha256("sk-alice"), rpm, tpm, concurrent);
        return new RateLimits(new ApiKeys(List.of(key)), Duration.ofMinutes(1), registry, () -> 0L).of(key);
    }

    private double refused(String limit) {
        return registry.get("paddock.rate.limited.requests").tag("key", "alice").tag("limit", limit).counter().count();
    }

    private static Map<String, String> headers(KeyLimits l) {
        Map<String, String> out = new LinkedHashMap<>();
        l.headers(out::put);
        return out;
    }

    @Test
    void requestsPerWindowThenA429NamingTheLimitAndTheKey() {
        KeyLimits l = limits(2, 0, 0);
        l.admit().finish();
        l.admit().finish();
        assertThatThrownBy(l::admit).isInstanceOfSatisfying(RateLimitExceeded.class, e -> {
            assertThat(e.type()).isEqualTo("requests");
            assertThat(e.code()).isEqualTo("rate_limit_exceeded");
            assertThat(e.limit()).isEqualTo(RateLimitExceeded.Limit.REQUESTS);
            assertThat(e.getMessage()).contains("'alice'", "requests per min (RPM): Limit 2, Used 2, Requested 1");
            assertThat(Integer.parseInt(e.retryAfter())).isBetween(1, 60);
        });
        assertThat(refused("requests")).isEqualTo(1);
        assertThat(headers(l)).containsEntry("x-ratelimit-limit-requests", "2")
                .containsEntry("x-ratelimit-remaining-requests", "0").containsKey("x-ratelimit-reset-requests")
                .doesNotContainKey("x-ratelimit-limit-tokens");
    }

    @Test
    void tokensAreReservedAndSettledToWhatWasUsed() {
        KeyLimits l = limits(0, 1000, 0);
        KeyedCall call = l.admit();
        call.reserveTokens(100, 800);
        assertThat(headers(l)).containsEntry("x-ratelimit-remaining-tokens", "100");
        call.settleTokens(150);
        call.settleTokens(0); // only the first settlement counts
        assertThat(headers(l)).containsEntry("x-ratelimit-limit-tokens", "1000")
                .containsEntry("x-ratelimit-remaining-tokens", "850");
        assertThat(headers(l).get("x-ratelimit-reset-tokens")).matches("\\d+(\\.\\d+)?s");
        call.finish();
        assertThat(headers(l)).containsEntry("x-ratelimit-remaining-tokens", "850");
    }

    @Test
    void overTheTokenLimitIsA429OfTypeTokens() {
        KeyLimits l = limits(0, 1000, 0);
        l.admit().reserveTokens(10, 900);
        assertThatThrownBy(() -> l.admit().reserveTokens(10, 200)).isInstanceOfSatisfying(RateLimitExceeded.class, e -> {
            assertThat(e.type()).isEqualTo("tokens");
            assertThat(e.getMessage()).contains("'alice'", "tokens per min (TPM): Limit 1000, Used 910, Requested 210");
            assertThat(e.retryAfter()).isEqualTo("8"); // 120 tokens at 1000/min
        });
        assertThatThrownBy(() -> l.admit().reserveTokens(10, 2000)).isInstanceOfSatisfying(RateLimitExceeded.class,
                e -> {
                    assertThat(e.getMessage()).startsWith("Request too large");
                    assertThat(e.retryAfter()).isNull();
                });
        assertThat(refused("tokens")).isEqualTo(2);
    }

    @Test
    void aCallThatNeverGeneratedGivesItsWholeReservationBack() {
        KeyLimits l = limits(0, 1000, 0);
        KeyedCall call = l.admit();
        call.reserveTokens(10, 500);
        call.finish();
        assertThat(headers(l)).containsEntry("x-ratelimit-remaining-tokens", "1000");
    }

    @Test
    void concurrentRequestsAreBoundedAndReleasedWhenTheyEnd() {
        KeyLimits l = limits(0, 0, 1);
        KeyedCall first = l.admit();
        assertThatThrownBy(l::admit).isInstanceOfSatisfying(RateLimitExceeded.class, e -> {
            assertThat(e.limit()).isEqualTo(RateLimitExceeded.Limit.CONCURRENCY);
            assertThat(e.type()).isEqualTo("requests");
            assertThat(e.getMessage()).contains("'alice'", "Limit 1");
        });
        first.finish();
        first.finish();
        l.admit().finish();
        assertThat(refused("concurrency")).isEqualTo(1);
        assertThat(headers(l)).isEmpty();
    }

    @Test
    void aRequestRefusedByTheRequestLimitHoldsNoConcurrencyPermit() {
        KeyLimits l = limits(1, 0, 1);
        l.admit().finish();
        assertThatThrownBy(l::admit).isInstanceOf(RateLimitExceeded.class);
        assertThatThrownBy(l::admit).isInstanceOfSatisfying(RateLimitExceeded.class,
                e -> assertThat(e.limit()).isEqualTo(RateLimitExceeded.Limit.REQUESTS));
    }
}
