package io.paddock.runtime.cpu;

import io.paddock.format.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/** Random test inputs; matrices go into a shared arena (the pool's workers read them) at a chosen misalignment. */
final class TestData {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestData() {}

    static float[] floats(SplittableRandom rnd, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextDouble(lo, hi);
        return a;
    }

    /** A (rows, cols) matrix of values in [-1, 1), stored as dtype starting {@code misalign} bytes past 64-byte alignment. */
    static DenseMatrix matrix(Arena arena, SplittableRandom rnd, DType dt, int rows, int cols, int misalign) {
        long n = (long) rows * cols;
        MemorySegment seg = arena.allocate(n * dt.byteSize() + misalign, 64).asSlice(misalign, n * dt.byteSize());
        for (long i = 0; i < n; i++) {
            float v = (float) rnd.nextDouble(-1, 1);
            switch (dt) {
                case F32 -> seg.set(FLOAT, i * 4, v);
                case F16 -> seg.set(HALF, i * 2, Float.floatToFloat16(v));
                case BF16 -> seg.set(HALF, i * 2, (short) (Float.floatToRawIntBits(v) >>> 16));
                default -> throw new IllegalArgumentException(dt.toString());
            }
        }
        return new DenseMatrix(seg, dt, rows, cols);
    }

    /** A matrix whose elements are the given raw 16-bit patterns, in order. */
    static DenseMatrix halfBits(Arena arena, DType dt, short[] bits, int rows, int cols, int misalign) {
        MemorySegment seg = arena.allocate(bits.length * 2L + misalign, 64).asSlice(misalign, bits.length * 2L);
        for (int i = 0; i < bits.length; i++) seg.set(HALF, i * 2L, bits[i]);
        return new DenseMatrix(seg, dt, rows, cols);
    }
}
