package io.paddock.metrics;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * Events per second over the last {@code window} complete seconds, in one-second buckets. One thread adds (the
 * engine thread), any thread reads (a scrape); neither locks nor allocates. A read that races a bucket's reset may
 * be off by that second's count once; for a gauge that is fine.
 */
final class SlidingRate {
    private final int window;
    private final LongSupplier nanoClock;
    private final AtomicLongArray counts;  // (window + 1): the current second and the window before it
    private final AtomicLongArray seconds; // (window + 1): which second each bucket counts

    SlidingRate(int windowSeconds, LongSupplier nanoClock) {
        if (windowSeconds < 1) throw new IllegalArgumentException("window must be >= 1 s: " + windowSeconds);
        this.window = windowSeconds;
        this.nanoClock = nanoClock;
        this.counts = new AtomicLongArray(windowSeconds + 1);
        this.seconds = new AtomicLongArray(windowSeconds + 1);
        for (int i = 0; i <= windowSeconds; i++) seconds.set(i, Long.MIN_VALUE);
    }

    /** Counts {@code n} events now. Single writer. */
    void add(long n) {
        long second = Math.floorDiv(nanoClock.getAsLong(), 1_000_000_000L);
        int i = (int) Math.floorMod(second, (long) counts.length());
        if (seconds.get(i) != second) {
            counts.set(i, 0);
            seconds.set(i, second);
        }
        counts.set(i, counts.get(i) + n);
    }

    /** Events per second over the last {@code window} complete seconds (the current second is left out). */
    double perSecond() {
        long now = Math.floorDiv(nanoClock.getAsLong(), 1_000_000_000L);
        long sum = 0;
        for (int i = 0; i < counts.length(); i++) {
            long s = seconds.get(i);
            if (s < now && s >= now - window) sum += counts.get(i);
        }
        return sum / (double) window;
    }
}
