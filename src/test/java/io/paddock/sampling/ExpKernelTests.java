package io.paddock.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;
import static org.assertj.core.data.Percentage.withPercentage;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Parity of the SIMD exp kernel with the scalar reference: 2e-6 relative per element, 1e-5 relative on sums. */
class ExpKernelTests {
    private final ExpKernel scalar = new ExpKernel.Scalar();
    private final ExpKernel vector = new VectorExpKernel();

    private static float[] row(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * 4);
        return x;
    }

    @Test
    void bestPicksTheVectorKernelWhereTheModuleIsPresent() {
        // Surefire adds jdk.incubator.vector, as the server's launch does.
        assertThat(ExpKernel.best()).isInstanceOf(VectorExpKernel.class);
    }

    @Test
    void expInPlaceMatchesScalar() {
        var rnd = new SplittableRandom(7);
        for (int n : new int[] {1, 3, 15, 16, 17, 100, 512, 32000, 32003}) {
            float[] x = row(rnd, n);
            float max = Float.NEGATIVE_INFINITY;
            for (float v : x) max = Math.max(max, v);
            float[] a = x.clone();
            float[] b = x.clone();
            double sa = scalar.expInPlace(a, n, max, 1f / 0.7f);
            double sb = vector.expInPlace(b, n, max, 1f / 0.7f);
            assertThat(sb).as("sum n=%d", n).isCloseTo(sa, withPercentage(1e-3));
            for (int i = 0; i < n; i++) {
                assertThat(b[i]).as("n=%d i=%d", n, i).isCloseTo(a[i], offset(Math.max(a[i] * 2e-6f, Float.MIN_NORMAL)));
            }
        }
    }

    @Test
    void expInPlaceLeavesTheTailAlone() {
        float[] x = {0f, 0f, 0f, 0f, 5f, 5f};
        double sum = vector.expInPlace(x, 4, 0f, 1f);
        assertThat(sum).isEqualTo(4.0);
        assertThat(x).containsExactly(1f, 1f, 1f, 1f, 5f, 5f);
    }

    @Test
    void sumExpMatchesScalarAndSkipsMaskedLanes() {
        var rnd = new SplittableRandom(8);
        for (int n : new int[] {1, 17, 32000}) {
            float[] x = row(rnd, n);
            for (int i = 1; i < n; i += 13) x[i] = Float.NEGATIVE_INFINITY;
            for (int i = 5; i < n; i += 29) x[i] = Float.NaN;
            float max = 0f;
            for (float v : x) if (v > max) max = v;
            double sa = scalar.sumExp(x, max);
            assertThat(sa).isFinite().isPositive();
            assertThat(vector.sumExp(x, max)).as("n=%d", n).isCloseTo(sa, withPercentage(1e-3));
        }
    }
}
