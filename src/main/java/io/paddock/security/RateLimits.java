package io.paddock.security;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The limits of every configured key, made once at start-up, and the count of refused requests:
 * {@code paddock_rate_limited_requests_total{key,limit}} (key: the configured name, so the tag set stays bounded).
 */
public final class RateLimits {
    private final Map<String, KeyLimits> byName = new LinkedHashMap<>();

    public RateLimits(ApiKeys keys, Duration window, MeterRegistry registry) {
        this(keys, window, registry, System::nanoTime);
    }

    RateLimits(ApiKeys keys, Duration window, MeterRegistry registry, LongSupplier tokenClock) {
        for (ApiKey key : keys.all()) {
            Map<RateLimitExceeded.Limit, Counter> counters = new LinkedHashMap<>();
            for (RateLimitExceeded.Limit l : RateLimitExceeded.Limit.values()) {
                counters.put(l, Counter.builder("paddock.rate.limited.requests")
                        .description("Requests refused with 429 because a key went over one of its limits")
                        .tag("key", key.name()).tag("limit", l.tag()).register(registry));
            }
            byName.put(key.name(), new KeyLimits(key, window, l -> counters.get(l).increment(), tokenClock));
        }
    }

    KeyLimits of(ApiKey key) {
        KeyLimits l = byName.get(key.name());
        if (l == null) throw new IllegalStateException("no limits for key '" + key.name() + "'");
        return l;
    }
}
