package io.paddock.metrics;

import java.time.Duration;

/**
 * Histogram bucket bounds (Prometheus {@code le}) for LLM serving. Fixed bounds rather than Micrometer's percentile
 * histogram (about 70 buckets per series) keep the scrape small and line up with the dashboards' quantiles.
 */
final class Buckets {
    private Buckets() {}

    /** Time to first token, queue wait, end-to-end duration: 10 ms to 120 s. */
    static final Duration[] LATENCY = seconds(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5,
            2, 2.5, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120);

    /** Inter-token latency and step time: finer at the low end (a decode step is tens of milliseconds), to 120 s. */
    static final Duration[] STEP = seconds(0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075,
            0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10, 20, 40, 80, 120);

    /** Tokens per request (prompt or generation): 1-2-5 steps up to 100k. */
    static final double[] TOKENS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000,
        100_000};

    /** Sequences per step: powers of two up to 1024. */
    static final double[] BATCH = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

    private static Duration[] seconds(double... bounds) {
        Duration[] d = new Duration[bounds.length];
        for (int i = 0; i < bounds.length; i++) d[i] = Duration.ofNanos(Math.round(bounds[i] * 1e9));
        return d;
    }
}
