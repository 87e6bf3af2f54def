package io.paddock.bench;

import io.paddock.format.DType;
import io.paddock.runtime.cpu.DenseMatrix;
import io.paddock.runtime.cpu.MatMul;
import io.paddock.runtime.cpu.Parallel;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batch-1 matrix-vector throughput against this machine's read bandwidth, measured side by side.
 *
 * <p>These machines are shared and their bandwidth drifts (34-57 GB/s in one afternoon), so an absolute GB/s
 * means little. Each sample is a pair: one timed pass of a vectorised multithreaded sum over a buffer far
 * larger than the caches, then timed back-to-back matvecs reading about as many bytes (the matrix is itself
 * larger than the last-level cache, so every call streams from memory), on the same {@link Parallel} pool.
 * The ratio within each pair is what we report (median over pairs), next to the medians of both sides.
 *
 * <p>Run as {@code paddock bench matvec}, whose options {@code cli.BenchCommand} parses into {@link Options}.
 * Default shapes: 11008x4096 and 4096x11008 (out x in).
 */
public final class MatVecBench {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private MatVecBench() {}

    /**
     * What to measure: every (shape, dtype) pair, on a pool of {@code threads}.
     *
     * @param shapes         {out, in} pairs
     * @param seconds        sampling time per (shape, dtype), at least five pairs regardless
     * @param dtypes         F32, F16 or BF16
     * @param batch          input vectors per call
     * @param bandwidthBytes size of the bandwidth probe's buffer
     * @param misalign       bytes (0..63) by which each matrix starts past a 64-byte boundary
     */
    public record Options(int threads, List<int[]> shapes, double seconds, List<DType> dtypes, int batch,
                          long bandwidthBytes, int misalign) {
        public Options {
            shapes = List.copyOf(shapes);
            dtypes = List.copyOf(dtypes);
        }
    }

    public static int run(Options o, PrintStream out) {
        try (Parallel p = new Parallel(o.threads()); Arena arena = Arena.ofShared()) {
            measure(o, p, arena, out);
        }
        return 0;
    }

    private static void measure(Options o, Parallel p, Arena arena, PrintStream out) {
        BandwidthProbe probe = new BandwidthProbe(p, o.bandwidthBytes());
        out.printf(Locale.ROOT, "matvec bench: %d thread(s), batch %d, %s, bandwidth buffer %d MB, misalign %d B%n",
                o.threads(), o.batch(), S, o.bandwidthBytes() >> 20, o.misalign());
        out.printf(Locale.ROOT, "%-6s %-13s %9s %9s %9s %9s %7s %6s%n",
                "dtype", "out x in", "MB", "ms/call", "GB/s", "bw GB/s", "ratio", "pairs");
        SplittableRandom rnd = new SplittableRandom(42);
        for (int[] shape : o.shapes()) {
            for (DType dt : o.dtypes()) {
                DenseMatrix w = randomMatrix(arena, dt, shape[0], shape[1], o.misalign(), rnd);
                float[] x = new float[o.batch() * shape[1]];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble(-1, 1);
                float[] y = new float[o.batch() * shape[0]];
                // Warm-up until C2 has compiled both loops: before that the Vector API runs boxed and a
                // small matrix can take 100+ ms a call, so count calls, not just time.
                long warmEnd = System.nanoTime() + 1_000_000_000L;
                for (int i = 0; i < 200 || System.nanoTime() < warmEnd; i++) MatMul.matmul(p, w, x, 0, y, 0, o.batch());
                for (int i = 0; i < 10; i++) probe.measureGbs();
                // Both halves of a pair should take about as long: a thread that starts late or is
                // preempted costs a fixed delay, which would otherwise weigh more on the shorter side.
                int reps = (int) Math.max(1, Math.round(o.bandwidthBytes() / (double) w.byteSize()));
                List<Double> bw = new ArrayList<>(), mv = new ArrayList<>(), ratio = new ArrayList<>();
                long end = System.nanoTime() + (long) (o.seconds() * 1e9);
                while (System.nanoTime() < end || bw.size() < 5) {
                    double bwGbs = probe.measureGbs();
                    long t1 = System.nanoTime();
                    for (int r = 0; r < reps; r++) MatMul.matmul(p, w, x, 0, y, 0, o.batch());
                    long t2 = System.nanoTime();
                    double mvGbs = reps * w.byteSize() / (double) (t2 - t1);
                    bw.add(bwGbs);
                    mv.add(mvGbs);
                    ratio.add(mvGbs / bwGbs);
                }
                double mvMedian = Stats.median(mv);
                out.printf(Locale.ROOT, "%-6s %-13s %9.1f %9.3f %9.1f %9.1f %6.0f%% %6d%n", dt,
                        shape[0] + "x" + shape[1], w.byteSize() / 1e6, w.byteSize() / mvMedian / 1e6, mvMedian,
                        Stats.median(bw), 100 * Stats.median(ratio), bw.size());
                if (y[0] == 12345.678f) out.print("");   // keeps y observable
            }
        }
        probe.close();
    }

    private static DenseMatrix randomMatrix(Arena arena, DType dt, int rows, int cols, int misalign, SplittableRandom rnd) {
        long n = (long) rows * cols;
        MemorySegment seg = arena.allocate(n * dt.byteSize() + misalign, 64).asSlice(misalign);
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfShort h = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            float v = (float) rnd.nextDouble(-0.05, 0.05);
            switch (dt) {
                case F32 -> seg.set(f, i * 4, v);
                case F16 -> seg.set(h, i * 2, Float.floatToFloat16(v));
                case BF16 -> seg.set(h, i * 2, (short) (Float.floatToRawIntBits(v) >>> 16));
                default -> throw new IllegalArgumentException("unsupported dtype " + dt);
            }
        }
        return new DenseMatrix(seg, dt, rows, cols);
    }
}
