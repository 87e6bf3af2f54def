package io.paddock.runtime.cpu;

import io.paddock.lora.LoraPair;
import io.paddock.runtime.RopeTable;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Plain scalar twins of {@link Kernels} and {@link MatMul}: the parity oracle for tests, written to be obviously
 * right rather than fast. Element-wise math is fp32 like the fast kernels; long sums (matmul, dot, the RMSNorm
 * sum of squares) accumulate in double so the oracle's own rounding is negligible next to the tolerance the
 * fast kernel is held to. Half weights are decoded with {@link Float#float16ToFloat}, independently of the
 * bit trick in {@code MatMulF16}.
 */
public final class ReferenceKernels {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ReferenceKernels() {}

    /** W[r, c] as fp32, whatever the storage dtype. */
    public static float weight(DenseMatrix w, int r, int c) {
        long i = (long) r * w.cols() + c;
        MemorySegment d = w.data();
        return switch (w.dtype()) {
            case F32 -> d.get(FLOAT, i * 4);
            case F16 -> Float.float16ToFloat(d.get(HALF, i * 2));
            case BF16 -> Float.intBitsToFloat(d.get(HALF, i * 2) << 16);
            default -> throw new IllegalArgumentException("unsupported dense dtype " + w.dtype());
        };
    }

    public static void matmul(DenseMatrix w, float[] x, int xOff, float[] y, int yOff, int batch) {
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < w.rows(); r++) {
                double acc = 0;
                for (int c = 0; c < w.cols(); c++) acc += (double) weight(w, r, c) * x[xOff + b * w.cols() + c];
                y[yOff + b * w.rows() + r] = (float) acc;
            }
        }
    }

    public static void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) x[xOff + i] * x[xOff + i];
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[outOff + i] = x[xOff + i] * scale * weight[i];
    }

    public static void ropeRotateHalf(float[] v, int off, int numHeads, int headDim, int pos, RopeTable t) {
        int half = headDim / 2;
        for (int h = 0; h < numHeads; h++) {
            for (int i = 0; i < half; i++) {
                float c = t.cos()[pos * half + i], s = t.sin()[pos * half + i];
                int lo = off + h * headDim + i, hi = lo + half;
                float a = v[lo], b = v[hi];
                v[lo] = a * c - b * s;
                v[hi] = b * c + a * s;
            }
        }
    }

    public static void swiglu(float[] gate, int gateOff, float[] up, int upOff, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[gateOff + i];
            gate[gateOff + i] = g / (1f + (float) Math.exp(-g)) * up[upOff + i];
        }
    }

    public static void addInPlace(float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = 0; i < n; i++) a[aOff + i] += b[bOff + i];
    }

    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        double acc = 0;
        for (int i = 0; i < n; i++) acc += (double) a[aOff + i] * b[bOff + i];
        return (float) acc;
    }

    public static void softmaxInPlace(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        for (int i = 0; i < n; i++) x[off + i] = (float) (x[off + i] / sum);
    }

    public static void attention(float[] out, int outOff, float[] q, int qOff, float[] keys, float[] values, int kvBase,
                                 int seqLen, int numHeads, int numKvHeads, int headDim, int headStart, int headEnd,
                                 float[] scratch) {
        int group = numHeads / numKvHeads;
        int kvDim = numKvHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int h = headStart; h < headEnd; h++) {
            int kvh = kvBase + (h / group) * headDim;
            for (int t = 0; t < seqLen; t++) {
                scratch[t] = dot(q, qOff + h * headDim, keys, kvh + t * kvDim, headDim) * scale;
            }
            softmaxInPlace(scratch, 0, seqLen);
            for (int d = 0; d < headDim; d++) {
                double acc = 0;
                for (int t = 0; t < seqLen; t++) acc += (double) scratch[t] * values[kvh + t * kvDim + d];
                out[outOff + h * headDim + d] = (float) acc;
            }
        }
    }

    /**
     * Scalar twin of {@link PagedAttention#attention}: the same arithmetic as {@link #attention} above, reading each
     * key and value through the block table and widening it element by element ({@link Float#float16ToFloat} for
     * f16, the top 16 bits for bf16), sums in double.
     */
    public static void attention(float[] out, int outOff, float[] q, int qOff, PagedKvStore kv, int layer,
                                 int[] blockTable, int seqLen, int numHeads, int numKvHeads, int headDim,
                                 int headStart, int headEnd, float[] scratch) {
        int group = numHeads / numKvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int h = headStart; h < headEnd; h++) {
            int kvh = (h / group) * headDim;
            for (int t = 0; t < seqLen; t++) {
                double acc = 0;
                for (int d = 0; d < headDim; d++) {
                    acc += (double) q[qOff + h * headDim + d] * kv.read(true, layer, blockTable, t, kvh + d);
                }
                scratch[t] = (float) acc * scale;
            }
            softmaxInPlace(scratch, 0, seqLen);
            for (int d = 0; d < headDim; d++) {
                double acc = 0;
                for (int t = 0; t < seqLen; t++) acc += (double) scratch[t] * kv.read(false, layer, blockTable, t, kvh + d);
                out[outOff + h * headDim + d] = (float) acc;
            }
        }
    }

    /**
     * Scalar twin of {@link LoraKernels#apply}, from the adapter's own layout ({@code b} as [out][rank]), in double:
     * {@code y[row] += scale · B·(A·x[row])} for each listed row.
     */
    public static void lora(int[] rows, LoraPair[] pairs, int count, float[] x, float[] y) {
        for (int i = 0; i < count; i++) {
            LoraPair p = pairs[i];
            double[] t = new double[p.rank()];
            for (int j = 0; j < p.rank(); j++) {
                for (int k = 0; k < p.in(); k++) t[j] += (double) p.a()[j * p.in() + k] * x[rows[i] * p.in() + k];
            }
            for (int o = 0; o < p.out(); o++) {
                double acc = 0;
                for (int j = 0; j < p.rank(); j++) acc += p.b()[o * p.rank() + j] * t[j];
                y[rows[i] * p.out() + o] = (float) (y[rows[i] * p.out() + o] + p.scale() * acc);
            }
        }
    }
}
