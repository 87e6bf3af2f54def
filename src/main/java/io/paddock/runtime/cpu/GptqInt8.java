package io.paddock.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.Objects;

/**
 * The int8 path of {@link GptqMatMul} for steps with several rows (batched decode, prefill): each activation row is
 * quantized once per call to int8 with one scale per segment (at most {@value #SEGMENT_INPUTS} inputs, never
 * crossing a GPTQ group), and the codes are multiplied by it with integer multiply-adds, summed exactly in int32.
 * Per segment s, row r and output o:
 *
 * <pre>
 *   d = Σ_i q[i,o]·xq[r,i] − zero_g[o]·Σ_i xq[r,i]          (exact integer)
 *   y[r,o] += (float) d · (scale_g[o] · sx[r,s])            (one fp32 FMA per segment)
 * </pre>
 *
 * The zero-point term uses Σ xq (the quantized activations), not Σ x: the result is then exactly the dot product
 * of the dequantized weight with the dequantized activation, so its error is Σ (x̂ − x)·w with w centred, not
 * Σ (x̂ − x)·s·q.
 *
 * <p>Kernels: {@link GptqInt8Native} (C, AVX-512 VNNI {@code vpdpbusd} or AVX2 {@code maddubs}) and {@link #twin}, the
 * same arithmetic in plain Java in the same order (bit-identical results; tests and the {@code java} mode). 3-bit
 * layers (ten codes per word, not byte-aligned) always stay on the fp32 kernels.
 *
 * <p>Selection, read once at start-up from system properties: {@code paddock.cpu.int8} = {@code auto} (native when
 * the library loaded and the CPU has VNNI or AVX2, else the fp32 kernels), {@code native} (the same, but failing
 * at start-up when the library cannot run), {@code java} (the scalar twin: slow, for checking), {@code off} (fp32
 * kernels only); {@code paddock.cpu.int8.min-batch} (default {@value #DEFAULT_MIN_BATCH}) the fewest rows a call
 * needs to take the int8 path.
 */
public final class GptqInt8 {
    /** Inputs per quantization segment (a segment never crosses a group). */
    static final int SEGMENT_INPUTS = 128;
    static final int DEFAULT_MIN_BATCH = 1;

    public enum Mode { AUTO, NATIVE, JAVA, OFF }

    private static final Mode CONFIGURED = parseMode(System.getProperty("paddock.cpu.int8", "auto"));
    private static final int CONFIGURED_MIN_BATCH =
            Integer.parseInt(System.getProperty("paddock.cpu.int8.min-batch", String.valueOf(DEFAULT_MIN_BATCH)).trim());
    private static volatile Mode mode = CONFIGURED;
    private static volatile int minBatch = CONFIGURED_MIN_BATCH;
    private static volatile int level;   // native level in use: 2 VNNI, 1 AVX2, 0 none

    static {
        if (CONFIGURED_MIN_BATCH < 1) {
            throw new IllegalArgumentException("paddock.cpu.int8.min-batch must be >= 1, got " + CONFIGURED_MIN_BATCH);
        }
        configure(CONFIGURED, CONFIGURED_MIN_BATCH);
    }

    private GptqInt8() {}

    /** auto, native, java or off (any case); IllegalArgumentException otherwise. */
    public static Mode parseMode(String s) {
        try {
            return Mode.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("paddock.cpu.int8 must be auto, native, java or off, got '" + s + "'");
        }
    }

    /**
     * Sets the mode and threshold (start-up, benchmarks and tests; calls in flight finish on the old setting). {@code NATIVE} throws where the native kernel cannot run;
     * {@code AUTO} quietly becomes {@code OFF} there.
     */
    public static synchronized void configure(Mode m, int min) {
        if (min < 1) throw new IllegalArgumentException("min batch must be >= 1, got " + min);
        int lv = 0;
        if (m == Mode.AUTO || m == Mode.NATIVE) {
            boolean ok = GptqInt8Native.available() && GptqInt8Native.supports(GptqInt8Native.LEVEL, GptqMatrix.LANES);
            if (!ok && m == Mode.NATIVE) {
                throw new IllegalStateException("paddock.cpu.int8=native but the native kernel cannot run: "
                        + Objects.requireNonNullElse(GptqInt8Native.unavailableReason(),
                        GptqMatrix.LANES + "-lane tiles at level " + GptqInt8Native.LEVEL));
            }
            if (ok) {
                lv = GptqInt8Native.LEVEL;
                m = Mode.NATIVE;
            } else {
                m = Mode.OFF;
            }
        }
        level = lv;
        mode = m;
        minBatch = min;
    }

    /** Restores the start-up configuration. */
    static void reset() {
        configure(CONFIGURED, CONFIGURED_MIN_BATCH);
    }

    /** The effective mode: {@code NATIVE}, {@code JAVA} or {@code OFF} ({@code AUTO} resolved at start-up). */
    public static Mode mode() {
        return mode;
    }

    /** A one-line description for logs and benchmarks. */
    public static String describe() {
        return switch (mode) {
            case NATIVE -> "int8 native (" + (level == 2 ? "AVX-512 VNNI" : "AVX2") + ") for batch >= " + minBatch;
            case JAVA -> "int8 scalar Java twin for batch >= " + minBatch;
            default -> "int8 off (fp32 kernels)" + (GptqInt8Native.available() ? "" : ": " + GptqInt8Native.unavailableReason());
        };
    }

    /** The fewest rows a call needs to take the int8 path. */
    public static int minBatch() {
        return minBatch;
    }

    /** Whether a call of {@code batch} rows on {@code w} takes the int8 path. */
    static boolean use(GptqMatrix w, int batch) {
        return mode != Mode.OFF && batch >= minBatch && w.bits() != 3;
    }

    /**
     * The quantized activations of one call: {@code xq} (batch, stride) int8 in the kernel's byte order, and per
     * (row, segment) the scale {@code xs} and the integer sum {@code xsum} of the row's int8 values.
     */
    record Acts(byte[] xq, int stride, float[] xs, int[] xsum, int nseg, int segUnits, int batch) {}

    /** Units per segment for w: {@value #SEGMENT_INPUTS} inputs' worth, at least one unit. */
    static int segUnits(GptqMatrix w) {
        return Math.max(1, SEGMENT_INPUTS / w.pieces.codes());
    }

    static int segments(GptqMatrix w) {
        int su = segUnits(w), n = 0;
        for (int u : w.groupUnits) n += Math.ceilDiv(u, su);
        return n;
    }

    /**
     * Quantizes rows [0, batch) of x (batch, cols) at xOff: per segment the scale is max|x|/127 and each value
     * rounds to the nearest int8 in [-127, 127]. Inputs are taken in the tile's (permuted, padded) order; byte
     * {@code u·codes + 4k + b} of a row is padded input {@code u·codes + b·(8/bits) + k}, the code that byte b of
     * the unit's word holds after a shift by {@code k·bits} (see gptq_i8.c).
     */
    static Acts quantize(GptqMatrix w, float[] x, int xOff, int batch) {
        int bits = w.bits(), codes = w.pieces.codes(), m = 8 / bits, in = w.cols();
        int su = segUnits(w), nseg = segments(w), stride = w.paddedIn();
        byte[] xq = new byte[Math.multiplyExact(batch, stride)];
        float[] xs = new float[batch * nseg];
        int[] xsum = new int[batch * nseg];
        int[] perm = w.perm;
        for (int r = 0; r < batch; r++) {
            int xo = xOff + r * in, qo = r * stride, s = r * nseg;
            for (int g = 0; g < w.groups; g++) {
                int end = w.groupUnitStart[g + 1];
                for (int u0 = w.groupUnitStart[g]; u0 < end; u0 += su, s++) {
                    int u1 = Math.min(end, u0 + su);
                    float amax = 0;
                    for (int p = u0 * codes; p < u1 * codes; p++) {
                        int i = perm[p];
                        if (i >= 0) amax = Math.max(amax, Math.abs(x[xo + i]));
                    }
                    float inv = amax == 0 ? 0 : 127f / amax;
                    int sum = 0;
                    for (int u = u0; u < u1; u++) {
                        for (int c = 0; c < codes; c++) {
                            int i = perm[u * codes + c];
                            int q = i < 0 ? 0 : Math.clamp(Math.round(x[xo + i] * inv), -127, 127);
                            xq[qo + u * codes + 4 * (c % m) + c / m] = (byte) q;
                            sum += q;
                        }
                    }
                    xs[s] = amax / 127f;
                    xsum[s] = sum;
                }
            }
        }
        return new Acts(xq, stride, xs, xsum, nseg, su, batch);
    }

    /** y = x · w (+ bias) on the int8 path; {@link #use} must have said yes. Arguments checked by the caller. */
    static void matmul(Parallel p, GptqMatrix w, float[] x, int xOff, float[] y, int yOff, int batch) {
        Acts a = quantize(w, x, xOff, batch);
        Mode md = mode;
        int lv = level;
        p.forRange(w.blocks, 1, (s, e) -> {
            if (md == Mode.NATIVE) GptqInt8Native.run(lv, w, a, s, e, y, yOff);
            else twin(w, a, s, e, y, yOff);
            if (w.bias != null) addBias(w, batch, s, e, y, yOff);
        });
    }

    private static void addBias(GptqMatrix w, int batch, int s, int e, float[] y, int yOff) {
        int out = w.rows();
        for (int r = 0; r < batch; r++) {
            for (int o = s * GptqMatrix.LANES; o < Math.min(out, e * GptqMatrix.LANES); o++) y[yOff + r * out + o] += w.bias[o];
        }
    }

    /**
     * The scalar twin of the native kernel: blocks [blk0, blk1) for every row of {@code a} into y (batch, out) at
     * yOff, no bias. Exact integer sums, then per segment {@code acc = fma((float) d, scale · sx, acc)}: the same
     * float operations in the same order as the C kernel, so the outputs are bit-identical.
     */
    static void twin(GptqMatrix w, Acts a, int blk0, int blk1, float[] y, int yOff) {
        int lanes = GptqMatrix.LANES, out = w.rows(), bits = w.bits(), codes = w.pieces.codes(), m = 8 / bits;
        int mask = bits == 8 ? 0xFF : (1 << bits) - 1;
        long rowBytes = 4L * lanes;
        MemorySegment t = w.tiles;
        for (int blk = blk0; blk < blk1; blk++) {
            int o0 = blk * lanes, valid = Math.min(lanes, out - o0);
            for (int r = 0; r < a.batch(); r++) {
                for (int l = 0; l < valid; l++) {
                    long off = blk * w.blockBytes;
                    float acc = 0;
                    int pos = r * a.stride(), seg = r * a.nseg();
                    for (int g = 0; g < w.groups; g++) {
                        float scale = Float.float16ToFloat(t.get(ValueLayout.JAVA_SHORT_UNALIGNED, off + 2L * l));
                        int zero = t.get(ValueLayout.JAVA_SHORT_UNALIGNED, off + 2L * lanes + 2L * l);
                        off += rowBytes;
                        int n = w.groupUnits[g];
                        for (int u0 = 0; u0 < n; u0 += a.segUnits(), seg++) {
                            int u1 = Math.min(n, u0 + a.segUnits());
                            int dot = 0;
                            for (int u = u0; u < u1; u++) {
                                int word = t.get(ValueLayout.JAVA_INT_UNALIGNED, off + 4L * l);
                                off += rowBytes;
                                for (int c = 0; c < codes; c++) {
                                    dot += ((word >>> (c * bits)) & mask) * a.xq()[pos + 4 * (c % m) + c / m];
                                }
                                pos += codes;
                            }
                            int d = dot - zero * a.xsum()[seg];
                            acc = Math.fma((float) d, scale * a.xs()[seg], acc);
                        }
                    }
                    y[yOff + r * out + o0 + l] = acc;
                }
            }
        }
    }
}
