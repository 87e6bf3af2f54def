package io.paddock.runtime.cpu;

import java.util.Objects;

/**
 * Dense matrix times a small batch of activation rows: the projection step of every layer.
 *
 * <p>Work is split across threads by output rows in blocks of {@link #ROW_BLOCK}; each dtype has its own
 * kernel class (identical loop structure, different weight load) so the JIT sees one monomorphic load per loop.
 */
public final class MatMul {
    /** Rows one kernel pass produces; the split grain, so every thread runs whole blocks. */
    static final int ROW_BLOCK = 4;

    private MatMul() {}

    /**
     * y[b, r] = sum_c W[r, c] * x[b, c] for b < batch: x is (batch, cols) at xOff, y is (batch, rows) at yOff.
     * Each weight is read from memory once for all batch rows (batches above four revisit a 4-row block
     * while it is still in cache).
     */
    public static void matmul(Parallel p, DenseMatrix w, float[] x, int xOff, float[] y, int yOff, int batch) {
        int rows = w.rows();
        int cols = w.cols();
        if (batch < 0) throw new IllegalArgumentException("batch must be >= 0, got " + batch);
        if (batch == 0 || rows == 0) return;
        Objects.checkFromIndexSize(xOff, (long) batch * cols > Integer.MAX_VALUE ? -1 : batch * cols, x.length);
        Objects.checkFromIndexSize(yOff, batch * rows, y.length);
        Parallel.RangeTask task = switch (w.dtype()) {
            case F32 -> (s, e) -> MatMulF32.rows(w.data(), cols, x, xOff, y, yOff, rows, batch, s, e);
            case F16 -> (s, e) -> MatMulF16.rows(w.data(), cols, x, xOff, y, yOff, rows, batch, s, e);
            case BF16 -> (s, e) -> MatMulBF16.rows(w.data(), cols, x, xOff, y, yOff, rows, batch, s, e);
            default -> throw new IllegalArgumentException("unsupported dense dtype " + w.dtype());
        };
        p.forRange(rows, ROW_BLOCK, task);
    }
}
