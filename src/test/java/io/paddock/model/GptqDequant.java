package io.paddock.model;

import io.paddock.format.Tensor;

/** Scalar reference dequantization of a {@link GptqLinear}, straight from the stored tensors and the formula. */
final class GptqDequant {
    private GptqDequant() {}

    /** The weight in torch layout, (out, in) row-major, as float: {@code w[o][i] = s[g,o] · (q[i,o] − z[g,o])}. */
    static float[] weight(GptqLinear l) {
        return weight(l, l.spec().zeroPlusOne(), true);
    }

    /**
     * The same with the conventions chosen by the caller, so tests can show that the other readings are worse.
     *
     * @param zeroPlusOne add one to the stored zero point
     * @param useGIdx     look groups up in g_idx; false uses i / group_size
     */
    static float[] weight(GptqLinear l, boolean zeroPlusOne, boolean useGIdx) {
        int in = l.inFeatures(), out = l.outFeatures(), bits = l.spec().bits();
        int zCols = (int) l.qzeros().shape()[1];
        float[] w = new float[out * in]; // (out, in)
        for (int i = 0; i < in; i++) {
            int g = useGIdx ? l.group(i) : l.spec().groupSize() == -1 ? 0 : i / l.spec().groupSize();
            for (int o = 0; o < out; o++) {
                int q = GptqPacking.extract(l.qweight().data(), o, out, bits, i);
                int z = GptqPacking.extract(l.qzeros().data(), (long) g * zCols, 1, bits, o) + (zeroPlusOne ? 1 : 0);
                w[o * in + i] = l.scales().getFloat((long) g * out + o) * (q - z);
            }
        }
        return w;
    }

    /** The dense weight as (out, in) floats. */
    static float[] dense(Tensor t) {
        return t.toFloatArray();
    }
}
