package io.paddock.engine;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A circuit breaker around the runtime's forward pass (Resilience4j): each step is a call. When most of the recent
 * steps failed (at least {@link #MIN_STEPS} of the last {@link #WINDOW}, half or more failing) it opens: the engine
 * refuses new requests with a 503 and {@code /ready} reports it down, while what is already queued still runs. After
 * {@link #OPEN_FOR} it lets requests in again (half-open); {@link #TRIAL_STEPS} good steps close it, a bad one opens
 * it again. One failed step alone never opens it: it fails only the requests in that step.
 */
final class StepBreaker {
    static final int WINDOW = 8;
    static final int MIN_STEPS = 3;
    static final int TRIAL_STEPS = 2;
    static final Duration OPEN_FOR = Duration.ofSeconds(5);

    private final CircuitBreaker breaker;

    StepBreaker(String name) {
        this(name, OPEN_FOR);
    }

    StepBreaker(String name, Duration openFor) {
        breaker = CircuitBreaker.of("engine-" + name, CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(WINDOW)
                .minimumNumberOfCalls(MIN_STEPS)
                .failureRateThreshold(50)
                .waitDurationInOpenState(openFor)
                .permittedNumberOfCallsInHalfOpenState(TRIAL_STEPS)
                .recordExceptions(Throwable.class)
                .build());
    }

    /** Whether new requests may come in: closed or half-open, or open long enough to try again. */
    boolean admits() {
        if (breaker.getState() != CircuitBreaker.State.OPEN) return true;
        // Past the wait, taking a permission moves it to half-open; the permission itself is not needed.
        if (!breaker.tryAcquirePermission()) return false;
        breaker.releasePermission();
        return true;
    }

    void succeeded(long nanos) {
        breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
    }

    void failed(long nanos, Throwable error) {
        breaker.onError(nanos, TimeUnit.NANOSECONDS, error);
    }

    String state() {
        return breaker.getState().name();
    }
}
