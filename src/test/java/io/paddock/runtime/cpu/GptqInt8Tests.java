package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paddock.model.GptqLinear;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The int8 path ({@link GptqInt8}): the native kernel against its scalar twin, bit for bit (every bit width the
 * int8 path takes, act-order and not, odd sizes, every row count up to 19, both the AVX-512 VNNI and the AVX2 code
 * where the CPU has them); the twin against the double-precision oracle within the bound int8 activations allow;
 * and the dispatch in {@link GptqMatMul}.
 *
 * <p>Bound per output o of row r: |y − ref| ≤ Σ_i ½·sx(i)·|w_io| + 1e-5·Σ_i |x_i|·s_io·(q_io + z_io) + 1e-6·|bias_o|.
 * The first term is exact rounding of each activation to its segment's grid (step sx = max|x|/127, so the error
 * of an input is at most sx/2 and nothing clamps); the second covers the fp32 steps (one FMA per segment).
 */
class GptqInt8Tests {
    private static final int[][] SHAPES = {   // {in, out, groupSize}
        {96, 37, 32}, {256, 16, 64}, {256, 130, 128}, {160, 1, -1}, {4096, 33, -1}, {512, 71, 128}};

    @AfterEach
    void restore() {
        GptqInt8.reset();
    }

    static String nativeMissing(int level) {
        String why = GptqInt8Native.unavailableReason();
        if (why != null) return why;
        if (GptqInt8Native.LEVEL < level) return "this CPU lacks level " + level + " (has " + GptqInt8Native.LEVEL + ")";
        if (!GptqInt8Native.supports(level, GptqMatrix.LANES)) return GptqMatrix.LANES + "-lane tiles at level " + level;
        return null;
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 4, 8})
    void nativeEqualsTheScalarTwinBitForBit(int bits) {
        String skip2 = nativeMissing(2), skip1 = nativeMissing(1);
        assumeTrue(skip1 == null || skip2 == null, "native int8 kernel not runnable here: " + skip1);
        SplittableRandom rnd = new SplittableRandom(bits * 31L);
        for (int[] sh : SHAPES) {
            for (boolean act : new boolean[] {false, true}) {
                var l = GptqReferenceTests.randomLayer(rnd, bits, sh[0], sh[1], sh[2], act && sh[2] > 0, rnd.nextBoolean(),
                        false, false);
                try (GptqMatrix m = GptqMatrix.prepare(l.linear())) {
                    for (int batch : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 19}) {
                        float[] x = activations(rnd, batch * sh[0], rnd.nextInt(3));
                        GptqInt8.Acts a = GptqInt8.quantize(m, x, 0, batch);
                        float[] want = new float[batch * sh[1]];
                        GptqInt8.twin(m, a, 0, m.blocks, want, 0);
                        for (int level = 1; level <= 2; level++) {
                            if (nativeMissing(level) != null) continue;
                            float[] got = new float[batch * sh[1] + 3];
                            Arrays.fill(got, Float.NaN);
                            GptqInt8Native.run(level, m, a, 0, m.blocks, got, 3);
                            for (int i = 0; i < want.length; i++) {
                                assertThat(Float.floatToRawIntBits(got[3 + i])).as("level %d %s batch %d act %s: y[%d] %s vs %s",
                                        level, Arrays.toString(sh), batch, act, i, got[3 + i], want[i])
                                        .isEqualTo(Float.floatToRawIntBits(want[i]));
                            }
                            for (int i = 0; i < 3; i++) assertThat(got[i]).isNaN();   // nothing before yOff written
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 4, 8})
    void twinStaysWithinTheInt8BoundOfTheOracle(int bits) {
        SplittableRandom rnd = new SplittableRandom(bits * 7L);
        for (int[] sh : SHAPES) {
            if (sh[0] > 512) continue;   // the oracle is O(in·out) per row in double: keep it quick
            for (boolean act : new boolean[] {false, true}) {
                var l = GptqReferenceTests.randomLayer(rnd, bits, sh[0], sh[1], sh[2], act && sh[2] > 0, rnd.nextBoolean(),
                        rnd.nextBoolean(), false);
                try (GptqMatrix m = GptqMatrix.prepare(l.linear())) {
                    int batch = 3;
                    float[] x = activations(rnd, batch * sh[0], rnd.nextInt(3));
                    GptqInt8.Acts a = GptqInt8.quantize(m, x, 0, batch);
                    float[] y = new float[batch * sh[1]];
                    GptqInt8.twin(m, a, 0, m.blocks, y, 0);
                    checkBound(l.linear(), m, a, x, y, true);
                }
            }
        }
    }

    @Test
    void matmulDispatchesByModeAndBatchAndAddsTheBias() {
        SplittableRandom rnd = new SplittableRandom(3);
        var l = GptqReferenceTests.randomLayer(rnd, 4, 256, 45, 64, true, true, true, false);
        int in = 256, out = 45, batch = 6, xOff = 5, yOff = 7;
        float[] x = new float[xOff + batch * in];
        System.arraycopy(activations(rnd, batch * in, 0), 0, x, xOff, batch * in);
        try (GptqMatrix m = GptqMatrix.prepare(l.linear()); Parallel p = new Parallel(2)) {
            float[] fp32 = new float[yOff + batch * out];
            GptqInt8.configure(GptqInt8.Mode.OFF, 2);
            GptqMatMul.matmul(p, m, x, xOff, fp32, yOff, batch);

            GptqInt8.configure(GptqInt8.Mode.JAVA, 2);
            float[] twin = new float[yOff + batch * out];
            GptqMatMul.matmul(p, m, x, xOff, twin, yOff, batch);
            float[] plain = new float[batch * out];
            GptqInt8.twin(m, GptqInt8.quantize(m, x, xOff, batch), 0, m.blocks, plain, 0);
            for (int i = 0; i < plain.length; i++) {
                assertThat(twin[yOff + i]).isEqualTo(plain[i] + l.linear().bias(i % out));
            }
            float[] sub = Arrays.copyOfRange(x, xOff, x.length);
            checkBound(l.linear(), m, GptqInt8.quantize(m, sub, 0, batch), sub, Arrays.copyOfRange(twin, yOff, twin.length), false);
            assertThat(Arrays.equals(twin, fp32)).as("int8 actually used").isFalse();

            float[] one = new float[yOff + out];   // batch 1 is below the threshold: the fp32 kernel, bit for bit
            float[] oneFp32 = new float[yOff + out];
            GptqMatMul.matmul(p, m, x, xOff, one, yOff, 1);
            GptqInt8.configure(GptqInt8.Mode.OFF, 2);
            GptqMatMul.matmul(p, m, x, xOff, oneFp32, yOff, 1);
            assertThat(one).isEqualTo(oneFp32);

            if (nativeMissing(GptqInt8Native.LEVEL) == null) {
                GptqInt8.configure(GptqInt8.Mode.AUTO, 2);
                assertThat(GptqInt8.mode()).isEqualTo(GptqInt8.Mode.NATIVE);
                float[] nat = new float[yOff + batch * out];
                GptqMatMul.matmul(p, m, x, xOff, nat, yOff, batch);
                assertThat(nat).isEqualTo(twin);
            }
        }
    }

    @Test
    void nativeStatusIsReported() {
        System.out.println("GptqInt8: native level " + GptqInt8Native.LEVEL + ", "
                + (GptqInt8Native.unavailableReason() == null ? "loaded" : GptqInt8Native.unavailableReason()));
        assertThat(GptqInt8Native.available() == (GptqInt8Native.unavailableReason() == null)).isTrue();
    }

    @Test
    void threeBitLayersStayOnTheFp32Kernels() {
        SplittableRandom rnd = new SplittableRandom(4);
        var l = GptqReferenceTests.randomLayer(rnd, 3, 128, 20, 32, true, true, false, false);
        try (GptqMatrix m = GptqMatrix.prepare(l.linear())) {
            GptqInt8.configure(GptqInt8.Mode.JAVA, 1);
            assertThat(GptqInt8.use(m, 8)).isFalse();
        }
    }

    @Test
    void settingsAreChecked() {
        assertThat(GptqInt8.parseMode(" Native ")).isEqualTo(GptqInt8.Mode.NATIVE);
        assertThatThrownBy(() -> GptqInt8.parseMode("fast")).hasMessageContaining("auto, native, java or off");
        assertThatThrownBy(() -> GptqInt8.configure(GptqInt8.Mode.JAVA, 0)).isInstanceOf(IllegalArgumentException.class);
        if (GptqInt8Native.unavailableReason() != null) {
            assertThatThrownBy(() -> GptqInt8.configure(GptqInt8.Mode.NATIVE, 2)).hasMessageContaining("cannot run");
            GptqInt8.configure(GptqInt8.Mode.AUTO, 2);
            assertThat(GptqInt8.mode()).isEqualTo(GptqInt8.Mode.OFF);
        }
    }

    /** Activations: uniform in ±2, with a few large outliers (kind 1) or a zero segment's worth (kind 2). */
    static float[] activations(SplittableRandom rnd, int n, int kind) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextDouble(-2, 2);
        if (kind == 1) for (int k = 0; k < 1 + n / 200; k++) x[rnd.nextInt(n)] = (float) rnd.nextDouble(-300, 300);
        if (kind == 2) Arrays.fill(x, 0, Math.min(n, 150), 0f);
        return x;
    }

    private static void checkBound(GptqLinear l, GptqMatrix m, GptqInt8.Acts a, float[] x, float[] y, boolean noBias) {
        int in = l.inFeatures(), out = l.outFeatures(), codes = m.pieces.codes();
        float[] w = GptqReference.dequantize(l);
        for (int r = 0; r < a.batch(); r++) {
            double[] sx = new double[in];   // each input's segment step
            int s = r * a.nseg();
            for (int g = 0; g < m.groups; g++) {
                int end = m.groupUnitStart[g + 1];
                for (int u0 = m.groupUnitStart[g]; u0 < end; u0 += a.segUnits(), s++) {
                    for (int p = u0 * codes; p < Math.min(end, u0 + a.segUnits()) * codes; p++) {
                        if (m.perm[p] >= 0) sx[m.perm[p]] = a.xs()[s];
                    }
                }
            }
            for (int o = 0; o < out; o++) {
                double ref = noBias ? 0 : l.bias(o), grid = 0, fp = 0;
                for (int i = 0; i < in; i++) {
                    double xi = x[r * in + i];
                    ref += xi * w[i * out + o];
                    grid += 0.5 * sx[i] * Math.abs(w[i * out + o]);
                    double z = w[i * out + o] == 0 ? 0 : Math.abs(w[i * out + o] / GptqReference.scale(l, l.group(i), o));
                    fp += Math.abs(xi) * GptqReference.scale(l, l.group(i), o) * (GptqReference.code(l, i, o) + z + 256);
                }
                double bound = grid * (1 + 1e-6) + 1e-5 * fp + 1e-6 * Math.abs(l.bias(o));
                assertThat(Math.abs(y[r * out + o] - ref)).as("row %d out %d", r, o).isLessThanOrEqualTo(bound);
            }
        }
    }
}
