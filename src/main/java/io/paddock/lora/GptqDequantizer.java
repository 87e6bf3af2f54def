package io.paddock.lora;

import io.paddock.format.LittleEndian;
import io.paddock.model.GptqLinear;
import io.paddock.model.GptqPacking;

/**
 * A GPTQ layer's weight as dense floats, straight from the stored tensors:
 * {@code w[i,o] = scales[g_idx[i],o] · (q[i,o] − z[g_idx[i],o])}, z the unpacked {@code qzeros} value (plus one where
 * the spec says so). Exact in float32: an f16 scale times an integer below 2^9.
 */
final class GptqDequantizer {
    private GptqDequantizer() {}

    /** The weight in torch {@code nn.Linear} layout, (out, in) row-major: {@code w[o * in + i]}. */
    static float[] weight(GptqLinear l) {
        int in = l.inFeatures(), out = l.outFeatures(), bits = l.spec().bits();
        int zeroWords = l.zeroWords();
        float[] w = new float[Math.multiplyExact(in, out)];
        for (int i = 0; i < in; i++) {
            int g = l.group(i);
            for (int o = 0; o < out; o++) {
                int q = GptqPacking.extract(l.qweight().data(), o, out, bits, i);
                int z = GptqPacking.extract(l.qzeros().data(), (long) g * zeroWords, 1, bits, o);
                if (l.spec().zeroPlusOne()) z += 1;
                float s = Float.float16ToFloat(l.scales().data().getAtIndex(LittleEndian.I16, (long) g * out + o));
                w[o * in + i] = s * (q - z);
            }
        }
        return w;
    }
}
