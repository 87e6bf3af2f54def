package io.paddock.bench;

import io.paddock.format.DType;
import io.paddock.format.LittleEndian;
import io.paddock.format.Tensor;
import io.paddock.format.TensorInfo;
import io.paddock.model.GptqLinear;
import io.paddock.model.GptqSpec;
import io.paddock.runtime.cpu.GptqInt8;
import io.paddock.runtime.cpu.GptqMatMul;
import io.paddock.runtime.cpu.GptqMatrix;
import io.paddock.runtime.cpu.Parallel;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GPTQ matrix-vector throughput on LLaMA-7B layer shapes against this machine's read bandwidth, measured side
 * by side as {@link MatVecBench} does: each sample is one timed pass of a vectorised sum over a buffer far
 * larger than the caches, then one timed {@link GptqMatMul} call on the same pool; medians of both and of
 * their ratio are reported, because the machine is shared and its bandwidth drifts.
 *
 * <p>Bytes per call are what the kernel reads ({@link GptqMatrix#bytes()}: packed codes, f16 scales, int16
 * zeros, permutation); "stored" is the checkpoint's own size of the layer. The summary combines the three
 * shapes into one LLaMA-7B decode step (per layer q, k, v, o 4096→4096, gate and up 4096→11008, down
 * 11008→4096; 32 layers; the f16 lm_head not included) and compares it with the bandwidth ceiling for the
 * same bytes.
 *
 * <p>Run as {@code paddock bench gptq-matvec}, whose options {@code cli.BenchCommand} parses into
 * {@link Options}. Shapes are out x in.
 */
public final class GptqMatVecBench {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private GptqMatVecBench() {}

    /** A GPTQ layout to time: {@code bits}, {@code groupSize} (-1: one group) and act-order, named e.g. 4g128act. */
    public record Variant(String name, int bits, int groupSize, boolean actOrder) {}

    /**
     * What to measure: every (variant, shape, batch), on a pool of {@code threads}.
     *
     * @param seconds        sampling time per point, at least five pairs regardless
     * @param batches        input vectors per call
     * @param shapes         {out, in} pairs
     * @param bandwidthBytes size of the bandwidth probe's buffer
     */
    public record Options(int threads, double seconds, List<Integer> batches, List<Variant> variants, List<int[]> shapes,
                          long bandwidthBytes, List<String> int8) {
        public Options {
            batches = List.copyOf(batches);
            variants = List.copyOf(variants);
            shapes = List.copyOf(shapes);
            int8 = int8.stream().map(GptqMatVecBench::int8Mode).toList();
            if (int8.isEmpty()) throw new IllegalArgumentException("int8 needs at least one mode");
        }

        /** The start-up int8 mode only. */
        public Options(int threads, double seconds, List<Integer> batches, List<Variant> variants, List<int[]> shapes,
                       long bandwidthBytes) {
            this(threads, seconds, batches, variants, shapes, bandwidthBytes, List.of(defaultInt8()));
        }
    }

    /** An int8 mode name (auto, native, java, off), checked and lower-cased; IllegalArgumentException otherwise. */
    public static String int8Mode(String s) {
        return GptqInt8.parseMode(s).name().toLowerCase(Locale.ROOT);
    }

    /** The int8 mode in effect (auto resolved at start-up to native or off). */
    public static String defaultInt8() {
        return GptqInt8.mode().name().toLowerCase(Locale.ROOT);
    }

    /** Medians of one (variant, shape, batch) measurement. */
    record Result(double ms, double gbs, double bwGbs, double ratio, long kernelBytes, long storedBytes, int pairs) {}

    public static int run(Options o, PrintStream out) {
        try (Parallel p = new Parallel(o.threads()); Arena arena = Arena.ofShared()) {
            measure(o, p, arena, out);
        }
        return 0;
    }

    private static void measure(Options o, Parallel p, Arena arena, PrintStream out) {
        BandwidthProbe probe = new BandwidthProbe(p, o.bandwidthBytes());
        out.printf(Locale.ROOT, "gptq-matvec bench: %d thread(s), %s, bandwidth buffer %d MB, %.1f s per point%n",
                o.threads(), S, o.bandwidthBytes() >> 20, o.seconds());
        out.printf(Locale.ROOT, "int8 modes compared (interleaved per sample): %s; threshold and kernel: %s%n", o.int8(),
                GptqInt8.describe());
        out.printf(Locale.ROOT, "%-14s %-11s %5s %8s %8s %8s %8s %8s %7s %9s %6s%n", "variant", "out x in", "batch",
                "MB", "stored", "ms", "GB/s", "bw GB/s", "ratio", "tok/s", "pairs");
        SplittableRandom rnd = new SplittableRandom(42);
        Map<String, Result> results = new LinkedHashMap<>();
        GptqInt8.Mode before = GptqInt8.mode();
        try {
            for (Variant v : o.variants()) {
                for (int[] shape : o.shapes()) {
                    GptqLinear l = randomLayer(arena, rnd, v, shape[0], shape[1]);
                    try (GptqMatrix m = GptqMatrix.prepare(l)) {
                        for (int batch : o.batches()) {
                            List<Result> rs = point(o, p, m, l, batch, rnd, probe);
                            for (int k = 0; k < rs.size(); k++) {
                                Result r = rs.get(k);
                                String name = label(v, o.int8().get(k), o.int8().size());
                                results.put(key(name, shape, batch), r);
                                out.printf(Locale.ROOT, "%-14s %-11s %5d %8.1f %8.1f %8.3f %8.1f %8.1f %6.0f%% %9.0f %6d%n",
                                        name, shape[0] + "x" + shape[1], batch, r.kernelBytes() / 1e6, r.storedBytes() / 1e6,
                                        r.ms(), r.gbs(), r.bwGbs(), 100 * r.ratio(), batch * 1000 / r.ms(), r.pairs());
                            }
                        }
                    }
                }
            }
        } finally {
            GptqInt8.configure(before, GptqInt8.minBatch());
        }
        summary(o, results, out);
        probe.close();
    }

    private static String key(String name, int[] shape, int batch) {
        return name + " " + shape[0] + "x" + shape[1] + " " + batch;
    }

    /** The variant's name, with the int8 mode appended when several are compared (4g128act/off, 4g128act/native). */
    private static String label(Variant v, String mode, int modes) {
        return modes == 1 ? v.name() : v.name() + "/" + mode;
    }

    /** The 7B decode step per variant and batch, where all three LLaMA-7B shapes were measured. */
    private static void summary(Options o, Map<String, Result> results, PrintStream out) {
        int[][] step = {{4096, 4096, 4}, {11008, 4096, 2}, {4096, 11008, 1}};   // out, in, count per layer
        boolean header = false;
        List<String> names = new ArrayList<>();
        for (Variant v : o.variants()) for (String md : o.int8()) names.add(label(v, md, o.int8().size()));
        for (String name : names) {
            for (int batch : o.batches()) {
                double ms = 0, bytes = 0, stored = 0, bwTime = 0;
                boolean all = true;
                for (int[] s : step) {
                    Result r = results.get(key(name, s, batch));
                    if (r == null) {
                        all = false;
                        break;
                    }
                    ms += 32 * s[2] * r.ms();
                    bytes += 32.0 * s[2] * r.kernelBytes();
                    stored += 32.0 * s[2] * r.storedBytes();
                    bwTime += 32 * s[2] * r.ms() * r.ratio();    // time the same bytes take at the paired bandwidth
                }
                if (!all) continue;
                if (!header) {
                    out.println();
                    out.println("LLaMA-7B decode step (32 layers x q,k,v,o,gate,up,down; lm_head not included):");
                    out.printf(Locale.ROOT, "%-14s %5s %9s %9s %9s %10s %9s%n", "variant", "batch", "GB read", "ms",
                            "tok/s", "of bw ceil", "ceil ms");
                    header = true;
                }
                out.printf(Locale.ROOT, "%-14s %5d %9.2f %9.1f %9.1f %9.0f%% %9.1f%n", name, batch, bytes / 1e9, ms,
                        batch * 1000 / ms, 100 * bwTime / ms, bwTime);
                if (stored == 0) out.print("");
            }
        }
        Result a = results.get("4g128act 11008x4096 1"), n = results.get("4g128 11008x4096 1");
        Result three = results.get("3g128act 11008x4096 1");
        if (a != null && n != null) {
            out.printf(Locale.ROOT, "act-order cost (4-bit g128, 11008x4096, batch 1): %+.1f%% time%n", 100 * (a.ms() / n.ms() - 1));
        }
        if (a != null && three != null) {
            out.printf(Locale.ROOT, "3-bit vs 4-bit (g128 act-order, 11008x4096, batch 1): %.2fx the speed%n", a.ms() / three.ms());
        }
    }

    /** One result per int8 mode of {@code o}, the modes' calls interleaved after each bandwidth sample. */
    private static List<Result> point(Options o, Parallel p, GptqMatrix m, GptqLinear l, int batch, SplittableRandom rnd,
                                      BandwidthProbe probe) {
        float[] x = new float[batch * m.cols()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        float[] y = new float[batch * m.rows()];
        int modes = o.int8().size(), min = GptqInt8.minBatch();
        // Warm up until C2 has compiled the kernels: before that the Vector API runs boxed, so count calls too.
        for (String md : o.int8()) {
            GptqInt8.configure(GptqInt8.parseMode(md), min);
            long warmEnd = System.nanoTime() + 500_000_000L;
            for (int i = 0; i < 100 || System.nanoTime() < warmEnd; i++) GptqMatMul.matmul(p, m, x, 0, y, 0, batch);
        }
        for (int i = 0; i < 5; i++) probe.measureGbs();
        List<List<Double>> bw = new ArrayList<>(), mv = new ArrayList<>(), ratio = new ArrayList<>(), ms = new ArrayList<>();
        for (int k = 0; k < modes; k++) {
            bw.add(new ArrayList<>());
            mv.add(new ArrayList<>());
            ratio.add(new ArrayList<>());
            ms.add(new ArrayList<>());
        }
        long end = System.nanoTime() + (long) (o.seconds() * 1e9 * modes);
        while (System.nanoTime() < end || bw.getFirst().size() < 5) {
            double bwGbs = probe.measureGbs();
            for (int k = 0; k < modes; k++) {
                GptqInt8.configure(GptqInt8.parseMode(o.int8().get(k)), min);
                long t1 = System.nanoTime();
                GptqMatMul.matmul(p, m, x, 0, y, 0, batch);
                long t2 = System.nanoTime();
                double gbs = m.bytes() / (double) (t2 - t1);
                bw.get(k).add(bwGbs);
                mv.get(k).add(gbs);
                ratio.get(k).add(gbs / bwGbs);
                ms.get(k).add((t2 - t1) / 1e6);
            }
        }
        if (y[0] == 12345.678f) System.out.print("");   // keeps y observable
        List<Result> rs = new ArrayList<>();
        for (int k = 0; k < modes; k++) {
            rs.add(new Result(Stats.median(ms.get(k)), Stats.median(mv.get(k)), Stats.median(bw.get(k)),
                    Stats.median(ratio.get(k)), m.bytes(), l.weightBytes(), bw.get(k).size()));
        }
        return rs;
    }

    /**
     * A GPTQ layer of random codes (any int32 is a valid packed word), symmetric zero points as AutoGPTQ stores
     * them (2^(bits-1) - 1, plus one on load), f16 scales around 0.01 and, with act-order, a random g_idx with
     * exactly groupSize inputs per group.
     */
    static GptqLinear randomLayer(Arena arena, SplittableRandom rnd, Variant v, int out, int in) {
        int bits = v.bits();
        int groups = v.groupSize() == -1 ? 1 : Math.ceilDiv(in, v.groupSize());
        long qRows = (long) in * bits / 32, zWords = Math.ceilDiv((long) out * bits, 32);
        MemorySegment q = arena.allocate(4 * qRows * out, 64);
        for (long k = 0; k < qRows * out; k++) q.setAtIndex(LittleEndian.I32, k, rnd.nextInt());
        MemorySegment z = arena.allocate(4 * groups * zWords, 64);
        int zero = (1 << (bits - 1)) - 1;
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < out; o++) {
                long bit = (long) o * bits, w = g * zWords + (bit >>> 5);
                int sh = (int) (bit & 31);
                z.setAtIndex(LittleEndian.I32, w, z.getAtIndex(LittleEndian.I32, w) | zero << sh);
                if (sh + bits > 32) z.setAtIndex(LittleEndian.I32, w + 1, z.getAtIndex(LittleEndian.I32, w + 1) | zero >>> (32 - sh));
            }
        }
        MemorySegment s = arena.allocate(2L * groups * out, 64);
        for (long k = 0; k < (long) groups * out; k++) s.setAtIndex(LittleEndian.I16, k, Float.floatToFloat16((float) rnd.nextDouble(0.005, 0.02)));
        int[] gIdx = new int[in];
        for (int i = 0; i < in; i++) gIdx[i] = v.groupSize() == -1 ? 0 : i / v.groupSize();
        if (v.actOrder()) {
            for (int i = in - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1), t = gIdx[i];
                gIdx[i] = gIdx[j];
                gIdx[j] = t;
            }
        }
        MemorySegment g = arena.allocate(4L * in, 64);
        for (int i = 0; i < in; i++) g.setAtIndex(LittleEndian.I32, i, gIdx[i]);
        String name = "bench." + v.name();
        return new GptqLinear(name, new GptqSpec(bits, v.groupSize(), v.actOrder(), true, true), in, out,
                tensor(name + ".qweight", DType.I32, q, qRows, out), tensor(name + ".qzeros", DType.I32, z, groups, zWords),
                tensor(name + ".scales", DType.F16, s, groups, out), tensor(name + ".g_idx", DType.I32, g, in), null);
    }

    private static Tensor tensor(String name, DType dt, MemorySegment data, long... shape) {
        return new Tensor(new TensorInfo(name, dt, shape, Path.of("random"), 0, data.byteSize()), data);
    }
}
