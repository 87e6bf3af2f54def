package io.paddock.runtime.cpu;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.S2I;

import io.paddock.runtime.KvCacheDtype;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention of one query token over a sequence whose keys and values are scattered over KV blocks. Scores and
 * softmax as in {@link ReferenceKernels#attention}; the value side walks the block table one contiguous block at a
 * time.
 *
 * <p>Keys and values are read straight from the store's off-heap segments and widened in registers: f32 as is, bf16
 * as {@code (int) h << 16}, f16 with {@link MatMulF16}'s bit trick ({@code ((int) h << 13) & 0x8FFFFFFF} is exactly
 * h·2^-112). For f16 the 2^112 is split as in MatMulF16: the query (scores) and each probability (values) are
 * scaled by 2^56 and each finished score and output by 2^56, all exact powers of two. JDK 25's Vector API has no
 * lane-wise half-to-float operator to use instead. One method per dtype keeps each loop's load monomorphic, and the
 * widening is written out at each load (see MatMulF16 on why not in a helper).
 */
public final class PagedAttention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final VectorSpecies<Short> H =
            VectorSpecies.of(short.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final float F16_IN = 0x1p56f;   // query / probability scale for f16
    private static final float F16_OUT = 0x1p56f;  // h * 2^-112 * x * 2^56 summed, times 2^56

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
        MemorySegment keys = kv.keys(layer), values = kv.values(layer);
        KvCacheDtype dt = kv.dtype();
        long es = dt.bytes(), stride = kvDim * es;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int h = headStart; h < headEnd; h++) {
            int qh = qOff + h * headDim;
            long headOff = (long) (h / group) * headDim * es;
            // Hot loop 1: one score per cached position, block by block.
            for (int start = 0; start < seqLen; start += bs) {
                long base = (long) blockTable[start / bs] * bs * stride + headOff;
                int n = Math.min(bs, seqLen - start);
                switch (dt) {
                    case F16 -> scoresF16(q, qh, keys, base, stride, n, headDim, scratch, start, scale);
                    case BF16 -> scoresBF16(q, qh, keys, base, stride, n, headDim, scratch, start, scale);
                    default -> scoresF32(q, qh, keys, base, stride, n, headDim, scratch, start, scale);
                }
            }
            Kernels.softmaxInPlace(scratch, 0, seqLen);
            // Hot loop 2: probability-weighted sum of values, accumulated block by block.
            int o = outOff + h * headDim;
            Arrays.fill(out, o, o + headDim, 0f);
            for (int start = 0; start < seqLen; start += bs) {
                long base = (long) blockTable[start / bs] * bs * stride + headOff;
                int n = Math.min(bs, seqLen - start);
                switch (dt) {
                    case F16 -> accumulateF16(out, o, scratch, start, values, base, stride, n, headDim);
                    case BF16 -> accumulateBF16(out, o, scratch, start, values, base, stride, n, headDim);
                    default -> accumulateF32(out, o, scratch, start, values, base, stride, n, headDim);
                }
            }
            if (dt == KvCacheDtype.F16) {
                for (int d = 0; d < headDim; d++) out[o + d] *= F16_OUT;
            }
        }
    }

    // ---- scores: scratch[sOff + t] = q . k_t * scale for t < n; k_t at byte base + t*stride ----

    private static void scoresF32(float[] q, int qh, MemorySegment k, long base, long stride, int n, int headDim,
            float[] scratch, int sOff, float scale) {
        for (int t = 0; t < n; t++) {
            long at = base + t * stride;
            FloatVector acc = FloatVector.zero(S);
            int d = 0;
            for (int bound = S.loopBound(headDim); d < bound; d += L) {
                acc = FloatVector.fromMemorySegment(S, k, at + d * 4L, LE).fma(FloatVector.fromArray(S, q, qh + d), acc);
            }
            float s = acc.reduceLanes(ADD);
            for (; d < headDim; d++) s += q[qh + d] * k.get(PagedKvStore.FLOAT, at + d * 4L);
            scratch[sOff + t] = s * scale;
        }
    }

    private static void scoresF16(float[] q, int qh, MemorySegment k, long base, long stride, int n, int headDim,
            float[] scratch, int sOff, float scale) {
        for (int t = 0; t < n; t++) {
            long at = base + t * stride;
            FloatVector acc = FloatVector.zero(S);
            int d = 0;
            for (int bound = S.loopBound(headDim); d < bound; d += L) {
                acc = ((IntVector) ShortVector.fromMemorySegment(H, k, at + d * 2L, LE).convertShape(S2I, I, 0))
                        .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(S, q, qh + d).mul(F16_IN), acc);
            }
            float s = acc.reduceLanes(ADD) * F16_OUT;
            for (; d < headDim; d++) s += q[qh + d] * Float.float16ToFloat(k.get(PagedKvStore.HALF, at + d * 2L));
            scratch[sOff + t] = s * scale;
        }
    }

    private static void scoresBF16(float[] q, int qh, MemorySegment k, long base, long stride, int n, int headDim,
            float[] scratch, int sOff, float scale) {
        for (int t = 0; t < n; t++) {
            long at = base + t * stride;
            FloatVector acc = FloatVector.zero(S);
            int d = 0;
            for (int bound = S.loopBound(headDim); d < bound; d += L) {
                acc = ((IntVector) ShortVector.fromMemorySegment(H, k, at + d * 2L, LE).convertShape(S2I, I, 0))
                        .lanewise(LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(S, q, qh + d), acc);
            }
            float s = acc.reduceLanes(ADD);
            for (; d < headDim; d++) s += q[qh + d] * Float.intBitsToFloat(k.get(PagedKvStore.HALF, at + d * 2L) << 16);
            scratch[sOff + t] = s * scale;
        }
    }

    // ---- values: out[o + d] += p[pOff + t] * v_t[d] for t < n, d < headDim ----

    private static void accumulateF32(float[] out, int o, float[] p, int pOff, MemorySegment v, long base,
            long stride, int n, int headDim) {
        int d = 0;
        for (int bound = S.loopBound(headDim); d < bound; d += L) {
            FloatVector acc = FloatVector.fromArray(S, out, o + d);
            for (int t = 0; t < n; t++) {
                acc = FloatVector.fromMemorySegment(S, v, base + t * stride + d * 4L, LE)
                        .fma(FloatVector.broadcast(S, p[pOff + t]), acc);
            }
            acc.intoArray(out, o + d);
        }
        for (; d < headDim; d++) {
            float acc = out[o + d];
            for (int t = 0; t < n; t++) acc += p[pOff + t] * v.get(PagedKvStore.FLOAT, base + t * stride + d * 4L);
            out[o + d] = acc;
        }
    }

    /** As accumulateF32 but out stays scaled by 2^-56 until the caller multiplies it back. */
    private static void accumulateF16(float[] out, int o, float[] p, int pOff, MemorySegment v, long base,
            long stride, int n, int headDim) {
        int d = 0;
        for (int bound = S.loopBound(headDim); d < bound; d += L) {
            FloatVector acc = FloatVector.fromArray(S, out, o + d);
            for (int t = 0; t < n; t++) {
                acc = ((IntVector) ShortVector.fromMemorySegment(H, v, base + t * stride + d * 2L, LE)
                        .convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats()
                        .fma(FloatVector.broadcast(S, p[pOff + t] * F16_IN), acc);
            }
            acc.intoArray(out, o + d);
        }
        for (; d < headDim; d++) {
            float acc = out[o + d];
            for (int t = 0; t < n; t++) {
                acc += p[pOff + t] * Float.float16ToFloat(v.get(PagedKvStore.HALF, base + t * stride + d * 2L)) / F16_OUT;
            }
            out[o + d] = acc;
        }
    }

    private static void accumulateBF16(float[] out, int o, float[] p, int pOff, MemorySegment v, long base,
            long stride, int n, int headDim) {
        int d = 0;
        for (int bound = S.loopBound(headDim); d < bound; d += L) {
            FloatVector acc = FloatVector.fromArray(S, out, o + d);
            for (int t = 0; t < n; t++) {
                acc = ((IntVector) ShortVector.fromMemorySegment(H, v, base + t * stride + d * 2L, LE)
                        .convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats()
                        .fma(FloatVector.broadcast(S, p[pOff + t]), acc);
            }
            acc.intoArray(out, o + d);
        }
        for (; d < headDim; d++) {
            float acc = out[o + d];
            for (int t = 0; t < n; t++) {
                acc += p[pOff + t] * Float.intBitsToFloat(v.get(PagedKvStore.HALF, base + t * stride + d * 2L) << 16);
            }
            out[o + d] = acc;
        }
    }
}
