package io.paddock.bench;

import io.paddock.engine.EngineListener;
import io.paddock.engine.EngineStats;
import io.paddock.engine.GenerationResult;
import io.paddock.sampling.Sample;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Measures the steady decode rate of {@code streams} requests started together: the window opens when every stream
 * has produced its first token (prefill done, batch full) and closes when the first one finishes. Fed either by
 * the engine (as an {@link EngineListener}) or by HTTP clients reading a stream; thread-safe.
 */
public final class DecodeWindow implements EngineListener {
    private final int streams;
    private final Supplier<EngineStats> stats; // for KV waste; may be null
    private final CountDownLatch done;
    private final boolean[] started;
    private int startedCount;
    private long tokensInWindow;
    private long windowStart, windowEnd;
    private final long created = System.nanoTime();
    private double wasteSum;
    private int wasteSamples;
    private volatile RuntimeException failure;

    public DecodeWindow(int streams, Supplier<EngineStats> stats) {
        this.streams = streams;
        this.stats = stats;
        this.done = new CountDownLatch(streams);
        this.started = new boolean[streams];
    }

    /** {@code n} tokens arrived on stream {@code stream}. */
    public synchronized void tokens(int stream, int n) {
        if (windowEnd != 0 || n == 0) return;
        if (windowStart != 0) {
            tokensInWindow += n;
            if (stats != null) {
                wasteSum += stats.get().kvWaste(); // averaged over the window: it moves as last blocks fill
                wasteSamples++;
            }
        } else if (!started[stream]) {
            started[stream] = true;
            if (++startedCount == streams) windowStart = System.nanoTime();
        }
    }

    public synchronized void finished() {
        if (windowEnd == 0) windowEnd = System.nanoTime();
        done.countDown();
    }

    public void failed(RuntimeException error) {
        failure = error;
        done.countDown();
    }

    /** An engine listener for stream {@code stream} of this window. */
    public EngineListener listener(int stream) {
        return new EngineListener() {
            @Override public void onText(String delta, int[] ids, List<Sample> samples) { tokens(stream, ids.length); }
            @Override public void onFinish(GenerationResult r) { finished(); }
            @Override public void onError(RuntimeException e) { failed(e); }
        };
    }

    // Used directly when there is a single stream.
    @Override public void onText(String delta, int[] ids, List<Sample> samples) { tokens(0, ids.length); }
    @Override public void onFinish(GenerationResult result) { finished(); }
    @Override public void onError(RuntimeException error) { failed(error); }

    public void await() {
        try {
            if (!done.await(30, TimeUnit.MINUTES)) throw new IllegalStateException("timed out");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (failure != null) throw new IllegalStateException("a benchmark request failed: " + failure.getMessage(), failure);
    }

    /** Milliseconds per decode step: each step gives every stream one token. */
    /** Seconds from this window's creation (just before the requests are submitted) to every stream's first token. */
    public synchronized double secondsToAllFirstTokens() {
        return windowStart == 0 ? Double.NaN : (windowStart - created) / 1e9;
    }

    public synchronized double msPerStep() {
        double steps = Math.max(1, tokensInWindow / (double) streams);
        return (windowEnd - windowStart) / 1e6 / steps;
    }

    public synchronized double tokensPerSecond() {
        return streams * 1000.0 / msPerStep();
    }

    public synchronized double kvWaste() {
        return wasteSamples == 0 ? Double.NaN : wasteSum / wasteSamples;
    }
}
