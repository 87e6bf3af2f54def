package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.paddock.format.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Parity of {@link MatMul} with {@link ReferenceKernels#matmul} (double accumulation).
 *
 * <p>Tolerance: |y - ref| <= 1e-5 * sum_c |W[r,c] * x[b,c]|. The fast kernel accumulates in fp32 across
 * 16-lane partial sums, so its error is bounded by a few hundred ulps of the sum of absolute terms at these
 * sizes; relative to |ref| alone the bound would be meaningless under cancellation. Both sides decode the same
 * stored F16/BF16 bits, so the storage rounding itself is not part of the error.
 */
class MatMulTests {
    private static final double TOL = 1e-5;
    private static final int[][] SHAPES = {{1, 1}, {3, 17}, {4, 16}, {5, 31}, {9, 33}, {13, 100}, {37, 259}, {8, 1000}};

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void matchesReferenceAcrossShapesBatchesThreadsAndOffsets(DType dt) {
        SplittableRandom rnd = new SplittableRandom(dt.ordinal() * 31L + 7);
        try (Arena arena = Arena.ofShared()) {
            for (int threads = 1; threads <= 3; threads++) {
                try (Parallel p = new Parallel(threads)) {
                    for (int[] shape : SHAPES) {
                        for (int batch = 1; batch <= 5; batch++) {
                            int misalign = rnd.nextInt(4) * 2 + (dt == DType.F32 ? rnd.nextInt(2) : 0);
                            check(p, TestData.matrix(arena, rnd, dt, shape[0], shape[1], misalign), batch, rnd);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void largeLayerShapeOnThreeThreads(DType dt) {
        SplittableRandom rnd = new SplittableRandom(99);
        try (Arena arena = Arena.ofShared(); Parallel p = new Parallel(3)) {
            DenseMatrix w = TestData.matrix(arena, rnd, dt, 258, 4099, 3 * 2);
            check(p, w, 1, rnd);
            check(p, w, 5, rnd);
        }
    }

    /**
     * Every finite half and bfloat16 bit pattern, read through one-hot activations, comes out exactly as
     * {@link Float#float16ToFloat} / {@code bits << 16} decode it: the in-register widening is exact,
     * subnormals and signed zeros included.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void widensEveryFiniteHalfExactly(DType dt) {
        List<Short> finite = new ArrayList<>();
        for (int b = 0; b < 65536; b++) {
            short s = (short) b;
            float f = ReferenceKernels.weight(decoder(dt, s), 0, 0);
            if (Float.isFinite(f)) finite.add(s);
        }
        int cols = 48;   // 3 vectors of 16: exercises the unrolled, single-vector and (on AVX2) tail paths
        int rows = (finite.size() + cols - 1) / cols;
        short[] bits = new short[rows * cols];
        for (int i = 0; i < finite.size(); i++) bits[i] = finite.get(i);
        try (Arena arena = Arena.ofShared(); Parallel p = new Parallel(2)) {
            DenseMatrix w = TestData.halfBits(arena, dt, bits, rows, cols, 2);
            int batch = 4;
            float[] x = new float[batch * cols];
            float[] y = new float[batch * rows];
            for (int j0 = 0; j0 < cols; j0 += batch) {
                Arrays.fill(x, 0f);
                for (int b = 0; b < batch; b++) x[b * cols + j0 + b] = 1f;
                MatMul.matmul(p, w, x, 0, y, 0, batch);
                for (int b = 0; b < batch; b++) {
                    for (int r = 0; r < rows; r++) {
                        float want = ReferenceKernels.weight(w, r, j0 + b);
                        assertThat(Float.floatToRawIntBits(y[b * rows + r]) == Float.floatToRawIntBits(want)
                                || y[b * rows + r] == want)
                                .as("%s bits %04x", dt, bits[r * cols + j0 + b] & 0xffff).isTrue();
                    }
                }
            }
        }
    }

    @Test
    void rejectsShortActivationArrays() {
        try (Arena arena = Arena.ofShared(); Parallel p = new Parallel(1)) {
            DenseMatrix w = TestData.matrix(arena, new SplittableRandom(1), DType.F32, 4, 8, 0);
            assertThatThrownBy(() -> MatMul.matmul(p, w, new float[15], 0, new float[8], 0, 2))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> MatMul.matmul(p, w, new float[16], 0, new float[7], 0, 2))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void denseMatrixRejectsTooSmallSegment() {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> new DenseMatrix(arena.allocate(10), DType.F16, 2, 3))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> new DenseMatrix(arena.allocate(64), DType.I8, 2, 3))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static DenseMatrix decoder(DType dt, short bits) {
        MemorySegment seg = MemorySegment.ofArray(new short[] {bits});
        return new DenseMatrix(seg, dt, 1, 1);
    }

    private static void check(Parallel p, DenseMatrix w, int batch, SplittableRandom rnd) {
        int xOff = rnd.nextInt(5), yOff = rnd.nextInt(5);
        float[] x = TestData.floats(rnd, xOff + batch * w.cols() + 3, -1, 1);
        float[] y = new float[yOff + batch * w.rows() + 3];
        float[] ref = y.clone();
        Arrays.fill(y, 42f);
        Arrays.fill(ref, 42f);
        MatMul.matmul(p, w, x, xOff, y, yOff, batch);
        ReferenceKernels.matmul(w, x, xOff, ref, yOff, batch);
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < w.rows(); r++) {
                double absSum = 0;
                for (int c = 0; c < w.cols(); c++) absSum += Math.abs((double) ReferenceKernels.weight(w, r, c) * x[xOff + b * w.cols() + c]);
                int i = yOff + b * w.rows() + r;
                assertThat((double) y[i]).as("%s %dx%d batch %d threads %d: y[%d,%d]", w.dtype(), w.rows(), w.cols(),
                        batch, p.threads(), b, r).isCloseTo(ref[i], offset(TOL * absSum + 1e-30));
            }
        }
        for (int i = 0; i < yOff; i++) assertThat(y[i]).isEqualTo(42f);
        for (int i = yOff + batch * w.rows(); i < y.length; i++) assertThat(y[i]).isEqualTo(42f);
    }
}
