package io.paddock.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batched LoRA for one linear layer over the rows of a step, several adapters at once (the "shrink, then expand"
 * of Punica's SGMV): for every listed row {@code i}, {@code y[row] += scale · B·(A·x[row])} with the A, B and scale of
 * that row's adapter. The listed rows come grouped by adapter; rows without an adapter are not listed. Two passes,
 * each one fork/join, each reading every adapter matrix from memory once per step rather than once per row:
 * <ol>
 *   <li>shrink, split by rank index: {@code t[i, j] = A[j] · x[row_i]}; a thread takes rank rows {@code j} and, for
 *       each group, dots A's row {@code j} (read once, then from L1) with the group's rows, four at a time;</li>
 *   <li>expand, split by output columns: {@code y[row, o0..o1) += scale · Σ_j t[i, j] · Bᵀ[j, o0..o1)}, four rows at
 *       a time, so each {@code Bᵀ} vector is loaded once per four rows and each y vector once per row.</li>
 * </ol>
 * The scalar twin is {@link ReferenceKernels#lora}.
 */
final class LoraKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Output columns one expand task takes: a 4-row y slice and a Bᵀ slice per rank index stay in L1/L2. */
    static final int COLUMN_BLOCK = 256;
    /** Rank indices one shrink task takes. */
    static final int RANK_BLOCK = 4;

    private LoraKernels() {}

    /**
     * @param rows       the step rows that have an adapter for this layer, grouped by adapter
     * @param groupStart group g covers {@code rows[groupStart[g] .. groupStart[g+1])}; {@code groups + 1} entries
     * @param weights    per group, its adapter's weights for this layer (same {@code in} and {@code out} for all)
     * @param x          (step rows, in) activations
     * @param y          (step rows, out) the base layer's output, added to
     * @param t          scratch of at least {@code groupStart[groups] · maxRank}
     */
    static void apply(Parallel p, int[] rows, int[] groupStart, LoraWeights[] weights, int groups, float[] x, int in,
            float[] y, int out, float[] t, int maxRank) {
        if (groups == 0) return;
        p.forRange(maxRank, RANK_BLOCK, (j0, j1) -> {
            for (int g = 0; g < groups; g++) {
                LoraWeights w = weights[g];
                for (int j = j0; j < Math.min(j1, w.rank()); j++) {
                    shrinkRow(w.a(), j * in, rows, groupStart[g], groupStart[g + 1], x, in, t, maxRank, j);
                }
            }
        });
        p.forRange(out, COLUMN_BLOCK, (o0, o1) -> {
            for (int g = 0; g < groups; g++) {
                LoraWeights w = weights[g];
                int i = groupStart[g], end = groupStart[g + 1];
                for (; i + 4 <= end; i += 4) expand4(w, rows, i, t, maxRank, y, out, o0, o1);
                for (; i < end; i++) expand1(w, rows[i], t, i * maxRank, y, out, o0, o1);
            }
        });
    }

    /** t[i, j] = a[aOff ..+in] · x[rows[i]] for i in [from, to), four rows per pass over a. */
    private static void shrinkRow(float[] a, int aOff, int[] rows, int from, int to, float[] x, int in, float[] t,
            int maxRank, int j) {
        int i = from;
        for (; i + 4 <= to; i += 4) {
            int x0 = rows[i] * in, x1 = rows[i + 1] * in, x2 = rows[i + 2] * in, x3 = rows[i + 3] * in;
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            int c = 0;
            for (int bound = S.loopBound(in); c < bound; c += L) {
                FloatVector av = FloatVector.fromArray(S, a, aOff + c);
                s0 = av.fma(FloatVector.fromArray(S, x, x0 + c), s0);
                s1 = av.fma(FloatVector.fromArray(S, x, x1 + c), s1);
                s2 = av.fma(FloatVector.fromArray(S, x, x2 + c), s2);
                s3 = av.fma(FloatVector.fromArray(S, x, x3 + c), s3);
            }
            float d0 = s0.reduceLanes(VectorOperators.ADD), d1 = s1.reduceLanes(VectorOperators.ADD);
            float d2 = s2.reduceLanes(VectorOperators.ADD), d3 = s3.reduceLanes(VectorOperators.ADD);
            for (; c < in; c++) {
                float av = a[aOff + c];
                d0 += av * x[x0 + c];
                d1 += av * x[x1 + c];
                d2 += av * x[x2 + c];
                d3 += av * x[x3 + c];
            }
            t[i * maxRank + j] = d0;
            t[(i + 1) * maxRank + j] = d1;
            t[(i + 2) * maxRank + j] = d2;
            t[(i + 3) * maxRank + j] = d3;
        }
        for (; i < to; i++) t[i * maxRank + j] = Kernels.dot(a, aOff, x, rows[i] * in, in);
    }

    /** y[rows[i..i+4), o0..o1) += scale · Σ_j t[row, j] · Bᵀ[j, o0..o1). */
    private static void expand4(LoraWeights w, int[] rows, int i, float[] t, int maxRank, float[] y, int out, int o0,
            int o1) {
        float[] bt = w.bt();
        float s = w.scale();
        FloatVector sv = FloatVector.broadcast(S, s);
        int t0 = i * maxRank, t1 = t0 + maxRank, t2 = t1 + maxRank, t3 = t2 + maxRank;
        int y0 = rows[i] * out, y1 = rows[i + 1] * out, y2 = rows[i + 2] * out, y3 = rows[i + 3] * out;
        int o = o0;
        for (int bound = o0 + S.loopBound(o1 - o0); o < bound; o += L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int j = 0; j < w.rank(); j++) {
                FloatVector b = FloatVector.fromArray(S, bt, j * out + o);
                a0 = b.fma(FloatVector.broadcast(S, t[t0 + j]), a0);
                a1 = b.fma(FloatVector.broadcast(S, t[t1 + j]), a1);
                a2 = b.fma(FloatVector.broadcast(S, t[t2 + j]), a2);
                a3 = b.fma(FloatVector.broadcast(S, t[t3 + j]), a3);
            }
            a0.fma(sv, FloatVector.fromArray(S, y, y0 + o)).intoArray(y, y0 + o);
            a1.fma(sv, FloatVector.fromArray(S, y, y1 + o)).intoArray(y, y1 + o);
            a2.fma(sv, FloatVector.fromArray(S, y, y2 + o)).intoArray(y, y2 + o);
            a3.fma(sv, FloatVector.fromArray(S, y, y3 + o)).intoArray(y, y3 + o);
        }
        for (; o < o1; o++) {
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for (int j = 0; j < w.rank(); j++) {
                float b = bt[j * out + o];
                a0 += b * t[t0 + j];
                a1 += b * t[t1 + j];
                a2 += b * t[t2 + j];
                a3 += b * t[t3 + j];
            }
            y[y0 + o] += s * a0;
            y[y1 + o] += s * a1;
            y[y2 + o] += s * a2;
            y[y3 + o] += s * a3;
        }
    }

    private static void expand1(LoraWeights w, int row, float[] t, int tOff, float[] y, int out, int o0, int o1) {
        float[] bt = w.bt();
        float s = w.scale();
        FloatVector sv = FloatVector.broadcast(S, s);
        int yOff = row * out;
        int o = o0;
        for (int bound = o0 + S.loopBound(o1 - o0); o < bound; o += L) {
            FloatVector acc = FloatVector.zero(S);
            for (int j = 0; j < w.rank(); j++) {
                acc = FloatVector.fromArray(S, bt, j * out + o).fma(FloatVector.broadcast(S, t[tOff + j]), acc);
            }
            acc.fma(sv, FloatVector.fromArray(S, y, yOff + o)).intoArray(y, yOff + o);
        }
        for (; o < o1; o++) {
            float acc = 0;
            for (int j = 0; j < w.rank(); j++) acc += bt[j * out + o] * t[tOff + j];
            y[yOff + o] += s * acc;
        }
    }
}
