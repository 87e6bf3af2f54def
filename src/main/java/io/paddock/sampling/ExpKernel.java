package io.paddock.sampling;

/**
 * The hot loop of softmax and log-softmax: exponentials over a whole vocabulary row. {@link Scalar} is the
 * reference; {@link VectorExpKernel} is the SIMD version, equal to it within about 1e-6 relative per element.
 */
sealed interface ExpKernel permits ExpKernel.Scalar, VectorExpKernel {

    /** values[i] = exp((values[i] - shift) * scale) for i in [0, n); returns their sum. Values must be finite. */
    double expInPlace(float[] values, int n, float shift, float scale);

    /** Sum of exp(x - shift) over the elements of x below +inf; NaN and +inf elements count as masked. */
    double sumExp(float[] x, float shift);

    /** The SIMD kernel where {@code jdk.incubator.vector} is present at run time, else the scalar one. */
    static ExpKernel best() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() ? new VectorExpKernel() : new Scalar();
    }

    /** Plain loop, float exponent arguments, double sums. */
    record Scalar() implements ExpKernel {
        @Override
        public double expInPlace(float[] values, int n, float shift, float scale) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                float w = (float) Math.exp((values[i] - shift) * scale);
                values[i] = w;
                sum += w;
            }
            return sum;
        }

        @Override
        public double sumExp(float[] x, float shift) {
            double sum = 0;
            for (float v : x) if (v < Float.POSITIVE_INFINITY) sum += (float) Math.exp(v - shift);
            return sum;
        }
    }
}
