package io.paddock.runtime.cpu;

import io.paddock.format.LittleEndian;
import io.paddock.model.GptqLinear;
import io.paddock.model.GptqPacking;
import java.lang.foreign.MemorySegment;

/**
 * The parity oracle for {@link GptqMatMul}: GPTQ dequantization and matmul written straight from the formula
 * {@code w[i,o] = scales[g_idx[i],o] · (q[i,o] − z[g_idx[i],o])}, reading the tensors exactly as stored and
 * sharing nothing with the fast path's repacked layout. z is the unpacked {@code qzeros} value, plus one when
 * {@code spec.zeroPlusOne()}. Slow on purpose (one bit-stream extraction per weight): tests and tools only.
 */
public final class GptqReference {
    private GptqReference() {}

    /**
     * The dense float weight, (in, out) row-major: {@code w[i * out + o]}. In float32 the product is exact
     * (an f16 scale times an integer below 2^9 needs at most 20 significant bits).
     */
    public static float[] dequantize(GptqLinear l) {
        int in = l.inFeatures(), out = l.outFeatures();
        float[] w = new float[Math.multiplyExact(in, out)];   // (in, out)
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) w[i * out + o] = weight(l, i, o);
        }
        return w;
    }

    /** w[i, o] of the layer, decoded from the stored tensors. */
    public static float weight(GptqLinear l, int i, int o) {
        int bits = l.spec().bits();
        int g = l.group(i);
        int q = code(l, i, o);
        int z = GptqPacking.extract(l.qzeros().data(), (long) g * l.zeroWords(), 1, bits, o);
        if (l.spec().zeroPlusOne()) z += 1;
        float s = scale(l, g, o);
        return s * (q - z);
    }

    /** The integer code q[i, o]: value i of column o of {@code qweight} (packed along in, words out apart). */
    public static int code(GptqLinear l, int i, int o) {
        return GptqPacking.extract(l.qweight().data(), o, l.outFeatures(), l.spec().bits(), i);
    }

    /** scales[g, o] widened from f16. */
    public static float scale(GptqLinear l, int g, int o) {
        MemorySegment s = l.scales().data();
        return Float.float16ToFloat(s.getAtIndex(LittleEndian.I16, (long) g * l.outFeatures() + o));
    }

    /** bias[o], or 0 without a bias. */
    public static float bias(GptqLinear l, int o) {
        return l.bias(o);
    }

    /**
     * y[b, o] = Σ_i x[b, i] · w[i, o] (+ bias[o]) for b &lt; batch; x is (batch, in) at xOff, y is (batch, out) at
     * yOff. Accumulates in double so the oracle's own rounding is negligible next to any tolerance.
     */
    public static void matmul(GptqLinear l, float[] x, int xOff, float[] y, int yOff, int batch) {
        int in = l.inFeatures(), out = l.outFeatures();
        float[] w = dequantize(l);   // (in, out)
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < out; o++) {
                double acc = bias(l, o);
                for (int i = 0; i < in; i++) acc += (double) x[xOff + b * in + i] * w[i * out + o];
                y[yOff + b * out + o] = (float) acc;
            }
        }
    }
}
