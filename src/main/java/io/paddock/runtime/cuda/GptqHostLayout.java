package io.paddock.runtime.cuda;

import io.paddock.model.GptqLinear;
import io.paddock.model.GptqPacking;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The host half of a GPTQ layer's upload (docs/gpu-kernels.md, "Host preparation"): input features stable-sorted
 * by group, qweight re-packed in that order with the same GPTQ bit-stream packing, g_idx permuted alike (so it is
 * non-decreasing) or synthesized where the file has none. Unlike the CPU's {@code GptqMatrix} no padding is
 * inserted: the CUDA kernels look the group up per input where a 32-input unit straddles groups.
 *
 * @param qweight int32 (in·bits/32, out), rows of codes in sorted input order
 * @param gIdx    int32 (in), group of each sorted position, non-decreasing
 * @param perm    int32 (in), original input at each sorted position; null where the order is unchanged
 */
record GptqHostLayout(int[] qweight, int[] gIdx, int[] perm) {

    static GptqHostLayout of(GptqLinear l) {
        int in = l.inFeatures(), out = l.outFeatures(), bits = l.spec().bits();
        int groups = Math.toIntExact(l.scales().info().dim(0));
        int rows = Math.toIntExact(l.qweight().info().dim(0));
        if (l.qweight().info().dim(1) != out || (long) rows * 32 < (long) in * bits) {
            throw new IllegalArgumentException(l.name() + ": qweight " + l.qweight().info().shapeString()
                    + " does not hold " + in + "x" + out + " codes of " + bits + " bits");
        }
        int[] g = new int[in];
        boolean sorted = true;
        for (int i = 0; i < in; i++) {
            g[i] = l.group(i);
            if (g[i] < 0 || g[i] >= groups) {
                throw new IllegalArgumentException(l.name() + ": g_idx[" + i + "] = " + g[i] + " is outside [0, " + groups + ")");
            }
            if (i > 0 && g[i] < g[i - 1]) sorted = false;
        }
        int[] q = new int[rows * out];
        MemorySegment.copy(l.qweight().data(), ValueLayout.JAVA_INT_UNALIGNED, 0, q, 0, q.length);
        if (sorted) return new GptqHostLayout(q, g, null);

        // Counting sort by group: stable, O(in + groups).
        int[] start = new int[groups + 1];
        for (int i = 0; i < in; i++) start[g[i] + 1]++;
        for (int k = 0; k < groups; k++) start[k + 1] += start[k];
        int[] perm = new int[in];
        int[] gSorted = new int[in];
        for (int i = 0; i < in; i++) {
            int p = start[g[i]]++;
            perm[p] = i;
            gSorted[p] = g[i];
        }
        int lineCount = rows * 32 / bits;   // codes per packed column, including any tail padding
        int[] codes = new int[lineCount];
        int[] packed = new int[rows * out];
        for (int o = 0; o < out; o++) {
            for (int p = 0; p < in; p++) codes[p] = GptqPacking.extract(q, o, out, bits, perm[p]);
            GptqPacking.pack(codes, 0, lineCount, bits, packed, o, out);
        }
        return new GptqHostLayout(packed, gSorted, perm);
    }
}
