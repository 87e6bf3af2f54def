package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.paddock.runtime.RopeTable;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Parity of {@link Kernels} with {@link ReferenceKernels} on random data, sizes around the vector length
 * (1..33, 100, 257, 1000) and non-zero offsets. Tolerances, per kernel:
 * <ul>
 *   <li>addInPlace, ropeRotateHalf: exact (same fp32 operations in the same order per element);
 *   <li>dot: 1e-5 * sum |a_i b_i| (fp32 lane-wise accumulation vs double);
 *   <li>rmsnorm: 1e-5 relative per element (only the sum of squares is accumulated differently);
 *   <li>swiglu, softmax: 2e-6 relative + 1e-7 absolute (the vector exp is within ~1 ulp of Math.exp);
 *   <li>attention: 1e-5 absolute with q, k, v in [-1, 1] (softmax weights sum to 1, so |out| <= 1).
 * </ul>
 */
class KernelsTests {
    private static final int[] SIZES = {1, 2, 7, 15, 16, 17, 31, 32, 33, 100, 257, 1000};
    private final SplittableRandom rnd = new SplittableRandom(1234);

    @Test
    void addInPlaceIsExact() {
        for (int n : SIZES) {
            float[] a = TestData.floats(rnd, n + 3, -10, 10), b = TestData.floats(rnd, n + 5, -10, 10);
            float[] ref = a.clone();
            Kernels.addInPlace(a, 3, b, 5, n);
            ReferenceKernels.addInPlace(ref, 3, b, 5, n);
            assertThat(a).containsExactly(ref);
        }
    }

    @Test
    void dotMatchesReference() {
        for (int n : SIZES) {
            float[] a = TestData.floats(rnd, n + 1, -1, 1), b = TestData.floats(rnd, n + 4, -1, 1);
            double absSum = 0;
            for (int i = 0; i < n; i++) absSum += Math.abs(a[1 + i] * b[4 + i]);
            assertThat((double) Kernels.dot(a, 1, b, 4, n))
                    .isCloseTo(ReferenceKernels.dot(a, 1, b, 4, n), within(1e-5 * absSum + 1e-30));
        }
        assertThat(Kernels.dot(new float[0], 0, new float[0], 0, 0)).isZero();
    }

    @Test
    void rmsnormMatchesReferenceAndWorksInPlace() {
        for (int n : SIZES) {
            float[] x = TestData.floats(rnd, n + 2, -3, 3), w = TestData.floats(rnd, n, 0.5, 1.5);
            float[] out = new float[n + 6], ref = new float[n + 6];
            Kernels.rmsnorm(out, 6, x, 2, w, n, 1e-5f);
            ReferenceKernels.rmsnorm(ref, 6, x, 2, w, n, 1e-5f);
            assertClose(out, ref, 1e-5, 0);
            float[] inPlace = x.clone();
            Kernels.rmsnorm(inPlace, 2, inPlace, 2, w, n, 1e-5f);
            for (int i = 0; i < n; i++) assertThat(inPlace[2 + i]).isEqualTo(out[6 + i]);
        }
    }

    @Test
    void ropeRotateHalfMatchesReferenceExactly() {
        for (int headDim : new int[] {2, 8, 32, 34, 64, 128}) {
            RopeTable t = RopeTable.create(headDim, 300, 10000.0);
            for (int pos : new int[] {0, 1, 17, 299}) {
                float[] v = TestData.floats(rnd, 3 + 5 * headDim, -2, 2);
                float[] ref = v.clone();
                Kernels.ropeRotateHalf(v, 3, 5, headDim, pos, t);
                ReferenceKernels.ropeRotateHalf(ref, 3, 5, headDim, pos, t);
                assertThat(v).containsExactly(ref);
            }
        }
    }

    @Test
    void swigluMatchesReference() {
        for (int n : SIZES) {
            float[] g = TestData.floats(rnd, n + 1, -20, 20), up = TestData.floats(rnd, n + 2, -2, 2);
            float[] ref = g.clone();
            Kernels.swiglu(g, 1, up, 2, n);
            ReferenceKernels.swiglu(ref, 1, up, 2, n);
            assertClose(g, ref, 2e-6, 1e-7);
        }
    }

    @Test
    void softmaxMatchesReferenceAndSumsToOne() {
        for (int n : SIZES) {
            float[] x = TestData.floats(rnd, n + 3, -30, 30);
            float[] ref = x.clone();
            Kernels.softmaxInPlace(x, 3, n);
            ReferenceKernels.softmaxInPlace(ref, 3, n);
            assertClose(x, ref, 2e-6, 1e-7);
            double sum = 0;
            for (int i = 0; i < n; i++) sum += x[3 + i];
            assertThat(sum).isCloseTo(1.0, within(1e-5));
        }
        float[] huge = {1e30f, 1e30f, -1e30f};
        Kernels.softmaxInPlace(huge, 0, 3);
        assertThat(huge).containsExactly(0.5f, 0.5f, 0f);
    }

    private static void assertClose(float[] got, float[] want, double rel, double abs) {
        for (int i = 0; i < got.length; i++) {
            assertThat((double) got[i]).as("index %d", i).isCloseTo(want[i], within(rel * Math.abs(want[i]) + abs));
        }
    }
}
