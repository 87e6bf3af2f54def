package io.paddock.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batched LoRA for one linear layer over the rows of a step, several adapters at once (the "shrink, then expand"
 * of Punica's SGMV): for every listed row {@code i}, {@code y[row] += scale · B·(A·x[row])} with the A, B and scale of
 * that row's adapter. Rows without an adapter are simply not listed. Two passes, each one fork/join:
 * <ol>
 *   <li>shrink, split by rows: {@code t[i, j] = A[j] · x[row]} for {@code j < rank} ({@code rank} vector dot products);</li>
 *   <li>expand, split by output columns: {@code y[row, o0..o1) += scale · Σ_j t[i, j] · Bᵀ[j, o0..o1)}, so each thread
 *       writes its own columns of every row and reads each {@code Bᵀ} slice once per row while it is in cache.</li>
 * </ol>
 * The scalar twin is {@link ReferenceKernels#lora}.
 */
final class LoraKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Output columns one expand task takes: 256 floats of y per row and of Bᵀ per rank stay in L1. */
    static final int COLUMN_BLOCK = 256;

    private LoraKernels() {}

    /**
     * @param rows    the step rows that have an adapter for this layer, ascending
     * @param weights per listed row, its adapter's weights for this layer (same {@code in} and {@code out} for all)
     * @param x       (step rows, in) activations
     * @param y       (step rows, out) the base layer's output, added to
     * @param t       scratch of at least {@code rows.length · maxRank}
     */
    static void apply(Parallel p, int[] rows, LoraWeights[] weights, int count, float[] x, int in, float[] y, int out,
            float[] t, int maxRank) {
        if (count == 0) return;
        p.forRange(count, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                LoraWeights w = weights[i];
                int xOff = rows[i] * in;
                for (int j = 0; j < w.rank(); j++) t[i * maxRank + j] = Kernels.dot(w.a(), j * in, x, xOff, in);
            }
        });
        p.forRange(out, COLUMN_BLOCK, (o0, o1) -> {
            for (int i = 0; i < count; i++) {
                LoraWeights w = weights[i];
                int yOff = rows[i] * out;
                for (int j = 0; j < w.rank(); j++) {
                    axpy(y, yOff, w.scale() * t[i * maxRank + j], w.bt(), j * out, o0, o1);
                }
            }
        });
    }

    /** y[yOff + o] += s · b[bOff + o] for o in [o0, o1). */
    private static void axpy(float[] y, int yOff, float s, float[] b, int bOff, int o0, int o1) {
        int o = o0;
        FloatVector sv = FloatVector.broadcast(S, s);
        for (int bound = o0 + S.loopBound(o1 - o0); o < bound; o += L) {
            FloatVector.fromArray(S, b, bOff + o).fma(sv, FloatVector.fromArray(S, y, yOff + o)).intoArray(y, yOff + o);
        }
        for (; o < o1; o++) y[yOff + o] = Math.fma(b[bOff + o], s, y[yOff + o]);
    }
}
