package io.paddock.security;

import java.util.function.LongSupplier;

/**
 * Tokens per window for one key, as a bucket that refills continuously ({@code capacity} per {@code window}) and can
 * take tokens back. Resilience4j's RateLimiter hands out permits but cannot return them; a request reserves its
 * prompt + max_tokens here at admission and gives back what it did not use when it ends.
 *
 * <p>Small and synchronized: a reservation is a few arithmetic operations, far cheaper than the request it guards.
 */
final class TokenBucket {
    /** A successful reservation, or how long until {@code requested} tokens will be there. */
    record Take(boolean granted, long used, long waitNanos) {}

    private final long capacity;
    private final long windowNanos;
    private final LongSupplier nanoTime;
    /** Tokens available, in units of 1/windowNanos of a token so that refill is exact integer arithmetic. */
    private long available;
    private long lastNanos;

    TokenBucket(long capacity, long windowNanos, LongSupplier nanoTime) {
        if (capacity <= 0 || windowNanos <= 0) throw new IllegalArgumentException("capacity and window must be > 0");
        this.capacity = capacity;
        this.windowNanos = windowNanos;
        this.nanoTime = nanoTime;
        this.lastNanos = nanoTime.getAsLong();
        this.available = Math.multiplyExact(capacity, windowNanos); // refuses a capacity too large to count exactly
    }

    long capacity() { return capacity; }

    /** Takes {@code n} tokens if they are there; a request larger than the whole bucket can never be granted. */
    synchronized Take take(long n) {
        refill();
        long want = scaled(n);
        if (want <= available) {
            available -= want;
            return new Take(true, capacity - whole(), 0);
        }
        long wait = n > capacity ? Long.MAX_VALUE : ceilDiv(want - available, capacity);
        return new Take(false, capacity - whole(), wait);
    }

    /** Gives back tokens reserved but not used (never more than the bucket holds). */
    synchronized void giveBack(long n) {
        if (n <= 0) return;
        refill();
        available = Math.min(full(), available + Math.min(n, capacity) * windowNanos);
    }

    /** Whole tokens available now. */
    synchronized long remaining() {
        refill();
        return whole();
    }

    /** Time until the bucket is full again (OpenAI's {@code x-ratelimit-reset-tokens}). */
    synchronized long nanosUntilFull() {
        refill();
        return ceilDiv(full() - available, capacity);
    }

    private void refill() {
        long now = nanoTime.getAsLong();
        long elapsed = now - lastNanos;
        if (elapsed <= 0) return;
        lastNanos = now;
        // capacity tokens per windowNanos: elapsed nanos add elapsed * capacity units (1 unit = 1/windowNanos token).
        long add = elapsed >= windowNanos ? full() : elapsed * capacity;
        available = full() - available <= add ? full() : available + add;
    }

    private long full() { return capacity * windowNanos; }
    private long scaled(long n) { return n > capacity ? Long.MAX_VALUE : n * windowNanos; }
    private long whole() { return available / windowNanos; }

    private static long ceilDiv(long a, long b) { return a <= 0 ? 0 : -Math.floorDiv(-a, b); }
}
