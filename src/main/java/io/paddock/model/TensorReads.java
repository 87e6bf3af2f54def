package io.paddock.model;

import io.paddock.format.DType;
import io.paddock.format.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Small scalar reads of mapped tensors: norm vectors and single embedding rows, never whole matrices. */
public final class TensorReads {
    private TensorReads() {}

    /** Element {@code index} of a floating-point tensor, widened to float. */
    public static float get(Tensor t, long index) {
        MemorySegment d = t.data();
        return switch (t.dtype()) {
            case F32 -> d.get(ValueLayout.JAVA_FLOAT_UNALIGNED, index * 4);
            case F16 -> Float.float16ToFloat(d.get(ValueLayout.JAVA_SHORT_UNALIGNED, index * 2));
            case BF16 -> Float.intBitsToFloat((d.get(ValueLayout.JAVA_SHORT_UNALIGNED, index * 2) & 0xffff) << 16);
            default -> throw new IllegalArgumentException(t.name() + ": not a floating-point tensor (" + t.dtype() + ")");
        };
    }

    /** Copies row {@code row} of a 2-D tensor (rows, cols) into {@code out[off..off+cols)} as float. */
    public static void row(Tensor t, int row, float[] out, int off) {
        int cols = (int) t.shape()[1];
        long base = (long) row * cols;
        if (t.dtype() == DType.F32) {
            MemorySegment.copy(t.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, base * 4, out, off, cols);
            return;
        }
        for (int c = 0; c < cols; c++) out[off + c] = get(t, base + c);
    }

    /** A whole (small) 1-D tensor as a float array. */
    public static float[] vector(Tensor t) {
        int n = Math.toIntExact(t.info().elementCount());
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = get(t, i);
        return out;
    }
}
