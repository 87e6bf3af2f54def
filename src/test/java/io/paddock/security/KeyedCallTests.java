package io.paddock.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.util.context.Context;

class KeyedCallTests {
    private final ApiKey key = new ApiKey("alice", ApiKey.sha256("sk-alice"), 0, 1000, 0);
    private final KeyLimits limits = new RateLimits(new ApiKeys(List.of(key)), Duration.ofMinutes(1),
            new SimpleMeterRegistry(), () -> 0L).of(key);

    private String remainingTokens() {
        Map<String, String> h = new LinkedHashMap<>();
        limits.headers(h::put);
        return h.get("x-ratelimit-remaining-tokens");
    }

    @Test
    void theCallIsFoundOnTheExchangeTheFilterAdmittedItOn() {
        KeyedCall call = limits.admit();
        var exchange = MockServerWebExchange.from(MockServerHttpRequest.post("/v1/completions"));
        assertThat(KeyedCall.of(exchange)).isNull();
        exchange.getAttributes().put(KeyLimitsFilter.ATTRIBUTE, call);
        assertThat(KeyedCall.of(exchange)).isSameAs(call);
        assertThat(KeyedCall.of(null)).isNull();
    }

    @Test
    void settlesWhenTheGenerationEndsBeforeItsSubscriberSeesTheEnd() {
        KeyedCall call = limits.admit();
        call.reserveTokens(10, 500);
        assertThat(remainingTokens()).isEqualTo("490");
        StepVerifier.create(KeyedCall.settleWhenDone(Flux.just(1, 2, 3), () -> 13)
                        .doOnComplete(() -> assertThat(remainingTokens()).isEqualTo("987"))
                        .contextWrite(Context.of(KeyedCall.class, call)))
                .expectNextCount(3).verifyComplete();
        call.finish();
        assertThat(remainingTokens()).isEqualTo("987");
    }

    @Test
    void aCancelledGenerationIsChargedWhatItUsed() {
        KeyedCall call = limits.admit();
        call.reserveTokens(10, 500);
        StepVerifier.create(KeyedCall.settleWhenDone(Flux.never(), () -> 40)
                        .contextWrite(Context.of(KeyedCall.class, call)))
                .thenCancel().verify();
        assertThat(remainingTokens()).isEqualTo("960");
    }

    @Test
    void withoutACallNothingHappens() {
        StepVerifier.create(KeyedCall.settleWhenDone(Flux.just(1), () -> 1)).expectNext(1).verifyComplete();
        assertThat(remainingTokens()).isEqualTo("1000");
    }
}
