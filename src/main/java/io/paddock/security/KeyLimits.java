package io.paddock.security;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One key's limits, each absent where its setting is 0:
 * <ul>
 * <li>requests per window: a Resilience4j {@link RateLimiter} (a permit is never given back, so none needs to be);
 * <li>tokens per window: a {@link TokenBucket}, because a reservation of prompt + max_tokens is corrected to the
 *     tokens actually used when the request ends, which a RateLimiter cannot do;
 * <li>concurrent requests: a Resilience4j semaphore {@link Bulkhead}, released when the response ends.
 * </ul>
 * Nothing waits: a request over a limit is refused at once with the time after which it would pass.
 */
final class KeyLimits {
    private final ApiKey key;
    private final long windowNanos;
    private final RateLimiter requests;
    /** When the requests limiter was made: its windows are counted from then. */
    private final long requestsStartNanos;
    private final TokenBucket tokens;
    private final Bulkhead concurrency;
    private final Consumer<RateLimitExceeded.Limit> onRefused;

    /** {@code tokenClock}: the token bucket's time (System::nanoTime; tests step it by hand). */
    KeyLimits(ApiKey key, Duration window, Consumer<RateLimitExceeded.Limit> onRefused, LongSupplier tokenClock) {
        this.key = key;
        this.windowNanos = window.toNanos();
        this.onRefused = onRefused;
        this.requestsStartNanos = System.nanoTime();
        this.requests = key.requestsPerMinute() == 0 ? null : RateLimiter.of("paddock-" + key.name(),
                RateLimiterConfig.custom().limitForPeriod(key.requestsPerMinute()).limitRefreshPeriod(window)
                        .timeoutDuration(Duration.ZERO).build());
        this.tokens = key.tokensPerMinute() == 0 ? null
                : new TokenBucket(key.tokensPerMinute(), windowNanos, tokenClock);
        this.concurrency = key.maxConcurrentRequests() == 0 ? null : Bulkhead.of("paddock-" + key.name(),
                BulkheadConfig.custom().maxConcurrentCalls(key.maxConcurrentRequests()).maxWaitDuration(Duration.ZERO)
                        .build());
    }

    ApiKey key() { return key; }

    /** Admits one request (concurrency, then requests per window) or throws the 429 that says which limit. */
    KeyedCall admit() {
        if (concurrency != null && !concurrency.tryAcquirePermission()) {
            throw refuse(RateLimitExceeded.Limit.CONCURRENCY, "Too many concurrent requests for key '" + key.name()
                    + "': Limit " + key.maxConcurrentRequests() + ". Please try again when one of them has finished.",
                    "1");
        }
        if (requests != null && !requests.acquirePermission()) {
            if (concurrency != null) concurrency.onComplete();
            long wait = nanosToNextWindow();
            throw refuse(RateLimitExceeded.Limit.REQUESTS, "Rate limit reached for key '" + key.name()
                    + "' on requests per min (RPM): Limit " + key.requestsPerMinute() + ", Used "
                    + key.requestsPerMinute() + ", Requested 1. Please try again in " + RateLimitHeaders.reset(wait)
                    + ".", RateLimitHeaders.retryAfter(wait));
        }
        return new KeyedCall(this);
    }

    /** Reserves {@code n} tokens or throws the 429 (type tokens); 0 when this key has no token limit. */
    long reserveTokens(long n) {
        if (tokens == null) return 0;
        TokenBucket.Take t = tokens.take(n);
        if (t.granted()) return n;
        if (t.waitNanos() == Long.MAX_VALUE) {
            throw refuse(RateLimitExceeded.Limit.TOKENS, "Request too large for key '" + key.name()
                    + "' on tokens per min (TPM): Limit " + key.tokensPerMinute() + ", Requested " + n
                    + ". The prompt plus max_tokens must fit the limit: send a shorter prompt or a lower max_tokens.",
                    null);
        }
        throw refuse(RateLimitExceeded.Limit.TOKENS, "Rate limit reached for key '" + key.name()
                + "' on tokens per min (TPM): Limit " + key.tokensPerMinute() + ", Used " + t.used() + ", Requested "
                + n + ". Please try again in " + RateLimitHeaders.reset(t.waitNanos()) + ".",
                RateLimitHeaders.retryAfter(t.waitNanos()));
    }

    void returnTokens(long n) {
        if (tokens != null) tokens.giveBack(n);
    }

    void release() {
        if (concurrency != null) concurrency.onComplete();
    }

    /** OpenAI's six {@code x-ratelimit-*} headers, for the limits this key has. */
    void headers(BiConsumer<String, String> out) {
        if (requests != null) {
            int remaining = Math.max(0, requests.getMetrics().getAvailablePermissions());
            out.accept(RateLimitHeaders.LIMIT_REQUESTS, Integer.toString(key.requestsPerMinute()));
            out.accept(RateLimitHeaders.REMAINING_REQUESTS, Integer.toString(remaining));
            out.accept(RateLimitHeaders.RESET_REQUESTS,
                    RateLimitHeaders.reset(remaining >= key.requestsPerMinute() ? 0 : nanosToNextWindow()));
        }
        if (tokens != null) {
            out.accept(RateLimitHeaders.LIMIT_TOKENS, Long.toString(tokens.capacity()));
            out.accept(RateLimitHeaders.REMAINING_TOKENS, Long.toString(tokens.remaining()));
            out.accept(RateLimitHeaders.RESET_TOKENS, RateLimitHeaders.reset(tokens.nanosUntilFull()));
        }
    }

    /** The requests limiter refills all its permits at the start of each window (Resilience4j's cycles). */
    private long nanosToNextWindow() {
        long inWindow = Math.floorMod(System.nanoTime() - requestsStartNanos, windowNanos);
        return windowNanos - inWindow;
    }

    private RateLimitExceeded refuse(RateLimitExceeded.Limit limit, String message, String retryAfter) {
        onRefused.accept(limit);
        return new RateLimitExceeded(limit, message, retryAfter);
    }
}
