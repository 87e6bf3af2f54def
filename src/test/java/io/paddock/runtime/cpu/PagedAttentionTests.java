package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.paddock.runtime.KvCacheDtype;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Paged attention equals contiguous attention (itself checked against the scalar reference) on shuffled blocks. */
class PagedAttentionTests {

    @ParameterizedTest
    @CsvSource({"8,4,8,16,1", "8,4,8,16,37", "32,8,128,16,200", "4,4,24,3,50", "6,2,20,7,13"})
    void pagedEqualsContiguous(int heads, int kvHeads, int headDim, int blockSize, int seqLen) {
        SplittableRandom r = new SplittableRandom(seqLen * 31L + headDim);
        int kvDim = kvHeads * headDim, blocksNeeded = Math.ceilDiv(seqLen, blockSize), numBlocks = blocksNeeded + 5;
        PagedKvStore store = new PagedKvStore(2, numBlocks, blockSize, kvDim);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < numBlocks; i++) ids.add(i);
        Collections.shuffle(ids, new Random(seqLen));
        int[] table = ids.subList(0, blocksNeeded).stream().mapToInt(Integer::intValue).toArray();

        float[] keys = new float[seqLen * kvDim], values = new float[seqLen * kvDim];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (float) r.nextGaussian();
            values[i] = (float) r.nextGaussian();
        }
        for (int p = 0; p < seqLen; p++) store.store(1, table, p, keys, p * kvDim, values, p * kvDim);
        float[] q = new float[heads * headDim];
        for (int i = 0; i < q.length; i++) q[i] = (float) r.nextGaussian();

        float[] expected = new float[q.length], actual = new float[q.length];
        ReferenceKernels.attention(expected, 0, q, 0, keys, values, 0, seqLen, heads, kvHeads, headDim, 0, heads, new float[seqLen]);
        PagedAttention.attention(actual, 0, q, 0, store, 1, table, seqLen, heads, kvHeads, headDim, 0, heads,
                new float[seqLen]);
        // The scalar reference in double vs the paged fp32 kernel: tolerance 1e-5 absolute on unit-scale values.
        for (int i = 0; i < q.length; i++) assertThat(actual[i]).isCloseTo(expected[i], offset(1e-5f));
        store.close();
    }

    /**
     * The f16 and bf16 kernels (vector widening, the 2^56 split of f16's 2^112) against the scalar twin reading the
     * same stored halves element by element in double: 2e-5 · (1 + |out|) (fp32 sums in another order). Keys and
     * values include tiny and large magnitudes so subnormal halves and the scaling are exercised.
     */
    @ParameterizedTest
    @CsvSource({"F16,8,4,8,16,1", "F16,8,4,8,16,37", "F16,32,8,128,16,200", "F16,4,4,24,3,50", "F16,6,2,20,7,13",
            "F16,32,32,64,16,300", "BF16,8,4,8,16,37", "BF16,32,8,128,16,200", "BF16,6,2,20,7,13",
            "F32,32,8,128,16,200"})
    void halfPrecisionKernelsEqualTheirScalarTwin(KvCacheDtype dtype, int heads, int kvHeads, int headDim,
            int blockSize, int seqLen) {
        SplittableRandom r = new SplittableRandom(seqLen * 17L + headDim);
        int kvDim = kvHeads * headDim, blocksNeeded = Math.ceilDiv(seqLen, blockSize), numBlocks = blocksNeeded + 3;
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < numBlocks; i++) ids.add(i);
        Collections.shuffle(ids, new Random(seqLen + 1));
        int[] table = ids.subList(0, blocksNeeded).stream().mapToInt(Integer::intValue).toArray();
        try (PagedKvStore store = new PagedKvStore(2, numBlocks, blockSize, kvDim, dtype)) {
            float[] k = new float[kvDim], v = new float[kvDim];
            for (int p = 0; p < seqLen; p++) {
                for (int i = 0; i < kvDim; i++) {
                    double scale = i % 7 == 0 ? 1e-5 : i % 11 == 0 ? 8 : 1;
                    k[i] = (float) (r.nextGaussian() * scale);
                    v[i] = (float) (r.nextGaussian() * scale);
                }
                store.store(0, table, p, k, 0, v, 0);
            }
            float[] q = new float[heads * headDim];
            for (int i = 0; i < q.length; i++) q[i] = (float) (r.nextGaussian() * 0.3);
            float[] expected = new float[q.length], actual = new float[q.length];
            ReferenceKernels.attention(expected, 0, q, 0, store, 0, table, seqLen, heads, kvHeads, headDim, 0, heads,
                    new float[seqLen]);
            // Two head ranges, as the runtime splits them over threads.
            int mid = heads / 2;
            PagedAttention.attention(actual, 0, q, 0, store, 0, table, seqLen, heads, kvHeads, headDim, 0, mid,
                    new float[seqLen]);
            PagedAttention.attention(actual, 0, q, 0, store, 0, table, seqLen, heads, kvHeads, headDim, mid, heads,
                    new float[seqLen]);
            for (int i = 0; i < q.length; i++) {
                // fp32 sums in a different order from the double reference: 2e-5 · (1 + |out|).
                float tol = 2e-5f * (1 + Math.abs(expected[i]));
                assertThat(actual[i]).as("%s out[%d]", dtype, i).isCloseTo(expected[i], offset(tol));
            }
        }
    }
}
