package io.paddock.runtime.cpu;

import io.paddock.runtime.RopeTable;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise and small reduction kernels of a LLaMA layer, on heap float arrays, vectorised with
 * {@link FloatVector#SPECIES_PREFERRED}. Each has a scalar twin in {@link ReferenceKernels}. Tails shorter
 * than a vector run scalar. These are cheap next to the matmuls (O(hidden) per token), so clarity wins
 * over unrolling here, except in the attention helpers that {@link PagedAttention} uses, whose cost grows with
 * the context.
 */
public final class Kernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private Kernels() {}

    /** out = x / sqrt(mean(x^2) + eps) * weight (LLaMA RMSNorm); out may be x. */
    public static void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        float ss = dot(x, xOff, x, xOff, n);
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, xOff + i).mul(scale).mul(FloatVector.fromArray(S, weight, i))
                    .intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = x[xOff + i] * scale * weight[i];
    }

    /**
     * HF rotate_half RoPE at position {@code pos}, in place: in each head, element i pairs with i + headDim/2
     * (not the interleaved (2i, 2i+1) pairs of the original Meta checkpoints).
     */
    public static void ropeRotateHalf(float[] v, int off, int numHeads, int headDim, int pos, RopeTable t) {
        if (t.headDim() != headDim) throw new IllegalArgumentException("table built for headDim " + t.headDim());
        int half = headDim / 2;
        int tOff = pos * half;
        float[] cos = t.cos(), sin = t.sin();
        for (int h = 0; h < numHeads; h++) {
            int lo = off + h * headDim, hi = lo + half;
            int i = 0;
            for (int bound = S.loopBound(half); i < bound; i += L) {
                FloatVector c = FloatVector.fromArray(S, cos, tOff + i);
                FloatVector s = FloatVector.fromArray(S, sin, tOff + i);
                FloatVector a = FloatVector.fromArray(S, v, lo + i);
                FloatVector b = FloatVector.fromArray(S, v, hi + i);
                a.mul(c).sub(b.mul(s)).intoArray(v, lo + i);
                b.mul(c).add(a.mul(s)).intoArray(v, hi + i);
            }
            for (; i < half; i++) {
                float c = cos[tOff + i], s = sin[tOff + i];
                float a = v[lo + i], b = v[hi + i];
                v[lo + i] = a * c - b * s;
                v[hi + i] = b * c + a * s;
            }
        }
    }

    /** gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + e^-g). */
    public static void swiglu(float[] gate, int gateOff, float[] up, int upOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(S, gate, gateOff + i);
            FloatVector e = g.neg().lanewise(VectorOperators.EXP);
            g.div(e.add(1f)).mul(FloatVector.fromArray(S, up, upOff + i)).intoArray(gate, gateOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gateOff + i];
            gate[gateOff + i] = g / (1f + (float) Math.exp(-g)) * up[upOff + i];
        }
    }

    /** a += b. */
    public static void addInPlace(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, a, aOff + i).add(FloatVector.fromArray(S, b, bOff + i)).intoArray(a, aOff + i);
        }
        for (; i < n; i++) a[aOff + i] += b[bOff + i];
    }

    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
        int i = 0;
        for (int bound = n - n % (2 * L); i < bound; i += 2 * L) {
            acc0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), acc1);
        }
        if (i + L <= n) {
            acc0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc0);
            i += L;
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** Numerically safe softmax (max subtracted first). */
    public static void softmaxInPlace(float[] x, int off, int n) {
        if (n == 0) return;
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        int bound = S.loopBound(n);
        if (bound > 0) {
            FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += L) m = m.max(FloatVector.fromArray(S, x, off + i));
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        FloatVector sumV = FloatVector.zero(S);
        i = 0;
        for (; i < bound; i += L) {
            FloatVector e = FloatVector.fromArray(S, x, off + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            sumV = sumV.add(e);
        }
        float sum = sumV.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < bound; i += L) FloatVector.fromArray(S, x, off + i).mul(inv).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= inv;
    }

    /**
     * out[d] = sum_t p[t] * values[base + t*stride + d] for d < headDim: the value-side hot loop of attention.
     * Four vector columns per pass over t give four independent FMA chains.
     */
    private static void weightedSum(float[] out, int o, float[] p, float[] values, int base, int stride, int seqLen,
                                    int headDim) {
        int d = 0;
        for (int bound = headDim - headDim % (4 * L); d < bound; d += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < seqLen; t++) {
                FloatVector pt = FloatVector.broadcast(S, p[t]);
                int v = base + t * stride + d;
                a0 = FloatVector.fromArray(S, values, v).fma(pt, a0);
                a1 = FloatVector.fromArray(S, values, v + L).fma(pt, a1);
                a2 = FloatVector.fromArray(S, values, v + 2 * L).fma(pt, a2);
                a3 = FloatVector.fromArray(S, values, v + 3 * L).fma(pt, a3);
            }
            a0.intoArray(out, o + d);
            a1.intoArray(out, o + d + L);
            a2.intoArray(out, o + d + 2 * L);
            a3.intoArray(out, o + d + 3 * L);
        }
        for (int bound = S.loopBound(headDim); d < bound; d += L) {
            FloatVector acc = FloatVector.zero(S);
            for (int t = 0; t < seqLen; t++) {
                acc = FloatVector.fromArray(S, values, base + t * stride + d).fma(FloatVector.broadcast(S, p[t]), acc);
            }
            acc.intoArray(out, o + d);
        }
        for (; d < headDim; d++) {
            float acc = 0f;
            for (int t = 0; t < seqLen; t++) acc += p[t] * values[base + t * stride + d];
            out[o + d] = acc;
        }
    }
}
