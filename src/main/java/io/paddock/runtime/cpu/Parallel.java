package io.paddock.runtime.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Persistent worker threads for data-parallel loops.
 *
 * <p>The forward pass hands work over about ten times per layer per token, so a hand-off must cost
 * microseconds, not the tens of microseconds of an executor or ForkJoin submit. Workers watch a phase
 * counter: after each job they spin on it for a while (the next job usually follows within a few
 * microseconds of serial work), then park. How long adapts: each worker keeps a moving average of how
 * long it waited for its recent jobs and spins {@value #SPIN_FACTOR} times that, at least
 * {@link #MIN_SPIN_NANOS} and at most {@code spinNanos}; so inside a forward pass (gaps of a few
 * microseconds) it spins briefly and never misses a job, and between steps of a small model it parks
 * instead of taking the core from the threads that serve requests for a full {@code spinNanos}.
 * The caller publishes a job by bumping the phase, unparks
 * only the workers that actually parked, runs chunk 0 itself and spins until the others report done.
 *
 * <p>A call made while a job is in flight (a nested call from inside a task, or a second caller thread)
 * runs inline on the calling thread instead of waiting, so nesting cannot deadlock.
 */
public final class Parallel implements AutoCloseable {
    /** Default cap on a worker's spin before parking: covers the serial gaps between kernels of one layer. */
    public static final long DEFAULT_SPIN_NANOS = 100_000;
    /** The shortest adaptive spin: a wake-up from park costs about this much. */
    static final long MIN_SPIN_NANOS = 10_000;
    /** A worker spins this many times its average recent wait (a gap that long is rare but not an outlier). */
    static final int SPIN_FACTOR = 8;
    private static final int PAD = 16;        // longs between two workers' averages (no false sharing)

    public interface RangeTask { void run(int start, int end); }

    private final int threads;
    private final long spinNanos;
    private final Thread[] workers;            // (threads - 1)
    private final boolean[] parked;            // (threads - 1); read/written with the phase's ordering, see awaitPhase
    private final long[] meanWait;             // worker w's moving average wait in ns at [w * PAD]; its own only
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile long phase;
    private volatile boolean closed;
    private volatile int parkedWorkers;        // a cheap "anyone parked?" test for the caller

    // The current job; written by the caller before the volatile phase bump, read by workers after it.
    private RangeTask task;
    private int n;
    private int grain;

    public Parallel(int threads) {
        this(threads, DEFAULT_SPIN_NANOS);
    }

    public Parallel(int threads, long spinNanos) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (spinNanos < 0) throw new IllegalArgumentException("spinNanos must be >= 0, got " + spinNanos);
        this.threads = threads;
        this.spinNanos = spinNanos;
        this.workers = new Thread[threads - 1];
        this.parked = new boolean[threads - 1];
        this.meanWait = new long[Math.max(1, threads - 1) * PAD];
        for (int i = 0; i < threads - 1; i++) meanWait[i * PAD] = spinNanos / SPIN_FACTOR;
        for (int i = 0; i < workers.length; i++) {
            int chunk = i + 1;
            Thread t = new Thread(() -> workerLoop(chunk), "paddock-cpu-" + chunk);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over [0, n) split into about {@link #threads()} chunks whose bounds are multiples
     * of {@code grain} (except the end). Runs inline when there is one thread, {@code n <= grain}, or a
     * job is already in flight. Returns when every chunk is done; rethrows the first failure.
     */
    public void forRange(int n, int grain, RangeTask task) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (grain < 1) throw new IllegalArgumentException("grain must be >= 1, got " + grain);
        if (closed) throw new IllegalStateException("Parallel is closed");
        if (n == 0) return;
        if (threads == 1 || n <= grain || !busy.compareAndSet(0, 1)) {
            task.run(0, n);
            return;
        }
        try {
            this.task = task;
            this.n = n;
            this.grain = grain;
            pending.set(threads - 1);
            phase = phase + 1;                 // publishes the job (volatile write)
            if (parkedWorkers > 0) wakeParked();
            Throwable own = null;
            try {
                runChunk(0);
            } catch (Throwable t) {
                own = t;
            }
            awaitWorkers();                    // even on failure: the next job must not overlap this one
            this.task = null;
            Throwable first = own != null ? own : failure.getAndSet(null);
            failure.set(null);
            if (first != null) rethrow(first);
        } finally {
            busy.set(0);
        }
    }

    private void runChunk(int k) {
        int units = (n + grain - 1) / grain;
        int start = (int) Math.min(n, (long) k * units / threads * grain);
        int end = (int) Math.min(n, (long) (k + 1) * units / threads * grain);
        if (start < end) task.run(start, end);
    }

    private void awaitWorkers() {
        int spins = 0;
        while (pending.get() != 0) {
            // Yield now and then so an oversubscribed machine still lets the workers finish.
            if ((++spins & 0x3ff) == 0) Thread.yield();
            else Thread.onSpinWait();
        }
    }

    private void wakeParked() {
        for (int i = 0; i < workers.length; i++) {
            if (isParked(i)) LockSupport.unpark(workers[i]);
        }
    }

    private void workerLoop(int chunk) {
        long seen = 0;
        while (true) {
            seen = awaitPhase(chunk - 1, seen);
            if (closed) return;
            try {
                runChunk(chunk);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
            pending.decrementAndGet();
        }
    }

    /** The spin worker {@code w} allows itself now (see the class comment). */
    long spinWindow(int w) {
        return Math.min(spinNanos, Math.max(MIN_SPIN_NANOS, SPIN_FACTOR * meanWait[w * PAD]));
    }

    /** Spins, then parks, until the phase moves past {@code seen}; returns the new phase. */
    private long awaitPhase(int w, long seen) {
        long start = System.nanoTime();
        long deadline = start + spinWindow(w);
        int spins = 0;
        while (true) {
            long p = phase;
            if (p != seen || closed) {
                // Waits past the cap (an idle engine) say nothing about the gaps inside a step: count them as the cap.
                long waited = Math.min(System.nanoTime() - start, spinNanos);
                meanWait[w * PAD] += (waited - meanWait[w * PAD]) >> 3;
                return p;
            }
            if ((++spins & 0x3f) != 0 || System.nanoTime() < deadline) {
                // An occasional yield keeps an oversubscribed machine (more runnable threads than cores)
                // from starving the thread that is about to publish the next job.
                if ((spins & 0x3ff) == 0) Thread.yield();
                else Thread.onSpinWait();
                continue;
            }
            // Announce the park, then re-check: either the caller sees the flag and unparks us,
            // or we see its new phase here (both sides use volatile/atomic accesses).
            setParked(w, true);
            while (phase == seen && !closed) LockSupport.park(this);
            setParked(w, false);
        }
    }

    private synchronized boolean isParked(int w) {
        return parked[w];
    }

    private synchronized void setParked(int w, boolean value) {
        if (parked[w] != value) parkedWorkers += value ? 1 : -1;
        parked[w] = value;
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException r) throw r;
        if (t instanceof Error e) throw e;
        throw new RuntimeException(t);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
        boolean interrupted = false;
        for (Thread t : workers) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
