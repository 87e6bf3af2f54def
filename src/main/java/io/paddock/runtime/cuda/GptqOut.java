package io.paddock.runtime.cuda;

/**
 * Where a tiled GPTQ launch (gptq_gemv_tiled, gptq_mma_gemm) puts {@code y = x·W (+ bias)}: the output columns
 * {@code [0, out)} fall into up to three row-major segments — columns {@code [0, n0)} to {@code y0} (row stride
 * n0), {@code [n0, n0 + n1)} to {@code y1} (stride n1), the rest to {@code y2} (stride out − n0 − n1) — so one
 * launch of a fused q/k/v (or gate/up) layer fills the three (two) buffers its consumers read. With
 * {@code accumulate} each element is added to what is there ({@code y += x·W}: a residual add folded into the
 * projection) instead of overwriting it; either way each element has exactly one writer (split-K slices are
 * reduced first, see {@link SplitWorkspace}).
 */
record GptqOut(long y0, long y1, long y2, int n0, int n1, boolean accumulate) {
    GptqOut {
        if (n0 < 0 || n1 < 0) throw new IllegalArgumentException("segment widths must be >= 0: " + n0 + ", " + n1);
        if (y0 == 0) throw new IllegalArgumentException("GptqOut needs a first output buffer");
        if (n1 > 0 && y1 == 0) throw new IllegalArgumentException("segment 1 has " + n1 + " columns but no buffer");
    }

    /** All {@code out} columns into {@code y}, overwritten. */
    static GptqOut to(long y, int out) {
        return new GptqOut(y, 0, 0, out, 0, false);
    }

    /** All {@code out} columns added into {@code y}. */
    static GptqOut addTo(long y, int out) {
        return new GptqOut(y, 0, 0, out, 0, true);
    }

    /** This output shifted by {@code rows} rows of each segment (a pass over rows {@code rows..}). */
    GptqOut skipRows(int rows, int out) {
        int n2 = out - n0 - n1;
        return new GptqOut(y0 + 4L * rows * n0, y1 == 0 ? 0 : y1 + 4L * rows * n1, y2 == 0 ? 0 : y2 + 4L * rows * n2,
                n0, n1, accumulate);
    }

    /** Checks the segments against a layer of {@code out} columns (the third takes the rest, and needs a buffer). */
    void check(int out) {
        long n2 = (long) out - n0 - n1;
        if (n2 < 0) throw new IllegalArgumentException("segments " + n0 + " + " + n1 + " exceed " + out + " columns");
        if (n2 > 0 && y2 == 0) throw new IllegalArgumentException("segment 2 has " + n2 + " columns but no buffer");
    }
}
