package io.paddock.runtime.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention of one query token over a sequence whose keys and values are scattered over KV blocks. Scores and
 * softmax as in {@link ReferenceKernels#attention}; the value side walks the block table one contiguous block at a time.
 */
public final class PagedAttention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private PagedAttention() {}

    /**
     * Heads [headStart, headEnd) of one query row attend over positions [0, seqLen) of the sequence with
     * {@code blockTable}. q and out are (numHeads*headDim); scratch length >= seqLen.
     */
    public static void attention(float[] out, int outOff, float[] q, int qOff, PagedKvStore kv, int layer,
            int[] blockTable, int seqLen, int numHeads, int numKvHeads, int headDim, int headStart, int headEnd,
            float[] scratch) {
        int group = numHeads / numKvHeads;
        int bs = kv.blockSize(), kvDim = kv.kvDim();
        float[] keys = kv.keys(layer), values = kv.values(layer);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int h = headStart; h < headEnd; h++) {
            int qh = qOff + h * headDim, headOff = (h / group) * headDim;
            // Hot loop 1: one score per cached position, block by block.
            for (int start = 0; start < seqLen; start += bs) {
                int base = blockTable[start / bs] * bs * kvDim + headOff;
                int n = Math.min(bs, seqLen - start);
                for (int t = 0; t < n; t++) {
                    scratch[start + t] = Kernels.dot(q, qh, keys, base + t * kvDim, headDim) * scale;
                }
            }
            Kernels.softmaxInPlace(scratch, 0, seqLen);
            // Hot loop 2: probability-weighted sum of values, accumulated block by block.
            int o = outOff + h * headDim;
            Arrays.fill(out, o, o + headDim, 0f);
            for (int start = 0; start < seqLen; start += bs) {
                int base = blockTable[start / bs] * bs * kvDim + headOff;
                accumulate(out, o, scratch, start, values, base, kvDim, Math.min(bs, seqLen - start), headDim);
            }
        }
    }

    /** out[d] += sum_t p[pOff+t] * values[base + t*stride + d] for t < n, d < headDim. */
    private static void accumulate(float[] out, int o, float[] p, int pOff, float[] values, int base, int stride,
            int n, int headDim) {
        int d = 0;
        for (int bound = S.loopBound(headDim); d < bound; d += L) {
            FloatVector acc = FloatVector.fromArray(S, out, o + d);
            for (int t = 0; t < n; t++) {
                acc = FloatVector.fromArray(S, values, base + t * stride + d).fma(FloatVector.broadcast(S, p[pOff + t]), acc);
            }
            acc.intoArray(out, o + d);
        }
        for (; d < headDim; d++) {
            float acc = out[o + d];
            for (int t = 0; t < n; t++) acc += p[pOff + t] * values[base + t * stride + d];
            out[o + d] = acc;
        }
    }
}
