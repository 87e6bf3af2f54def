package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.lora.LoraPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link LoraKernels#apply} against its scalar double-precision twin {@link ReferenceKernels#lora}. */
class LoraKernelsTests {

    @ParameterizedTest(name = "{0} rows of {1}, in {2}, out {3}, ranks {4}/{5}, {6} threads")
    @CsvSource({"1, 1, 64, 64, 8, 8, 1", "5, 9, 64, 32, 8, 4, 2", "16, 16, 192, 64, 64, 16, 3",
            "7, 20, 37, 300, 3, 1, 2", "3, 3, 4096, 11, 64, 64, 4", "16, 16, 4096, 4096, 64, 64, 2", "11, 24, 37, 5, 5, 2, 3"})
    void batchedShrinkExpandEqualsScalarReference(int adapted, int stepRows, int in, int out, int rank1, int rank2,
            int threads) {
        Random rnd = new Random(adapted * 31L + in);
        LoraPair p1 = pair(rnd, rank1, in, out, 2f), p2 = pair(rnd, rank2, in, out, 0.5f);
        // rows spread over the step, the two adapters interleaved in the step (one step mixes adapters row by
        // row); the kernel takes them grouped by adapter
        List<Integer> rows1 = new ArrayList<>(), rows2 = new ArrayList<>();
        for (int i = 0; i < adapted; i++) {
            int row = (int) ((long) i * stepRows / adapted);
            (rnd.nextBoolean() ? rows1 : rows2).add(row);
        }
        int[] rows = new int[adapted];
        LoraPair[] pairs = new LoraPair[adapted];
        int n = 0;
        for (int r : rows1) { rows[n] = r; pairs[n++] = p1; }
        for (int r : rows2) { rows[n] = r; pairs[n++] = p2; }
        int[] groupStart = {0, rows1.size(), adapted};
        LoraWeights[] weights = {LoraWeights.of(p1), LoraWeights.of(p2)};
        float[] x = random(rnd, stepRows * in), y = random(rnd, stepRows * out);
        float[] before = y.clone(), expected = y.clone();
        ReferenceKernels.lora(rows, pairs, adapted, x, expected);
        int maxRank = Math.max(rank1, rank2);
        try (Parallel p = new Parallel(threads)) {
            LoraKernels.apply(p, rows, groupStart, weights, 2, x, in, y, out, new float[adapted * maxRank], maxRank);
        }
        float max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        for (int i = 0; i < y.length; i++) {
            assertThat(Math.abs(y[i] - expected[i])).as("y[%d]", i).isLessThanOrEqualTo(1e-5f * (1 + max));
        }
        // rows that are not listed keep the base output exactly
        java.util.Set<Integer> listed = new java.util.HashSet<>();
        for (int r : rows) listed.add(r);
        for (int r = 0; r < stepRows; r++) {
            if (listed.contains(r)) continue;
            for (int o = 0; o < out; o++) assertThat(y[r * out + o]).isEqualTo(before[r * out + o]);
        }
    }

    private static LoraPair pair(Random rnd, int rank, int in, int out, float scale) {
        return new LoraPair(rank, in, out, random(rnd, rank * in), random(rnd, out * rank), scale);
    }

    private static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }
}
