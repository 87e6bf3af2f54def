package io.paddock.model;

import io.paddock.format.LittleEndian;
import io.paddock.format.Tensor;
import java.lang.foreign.ValueLayout;

/**
 * A GPTQ-quantized linear layer exactly as stored: {@code w[i,o] = scales[g_idx[i],o] · (q[i,o] − zero[g_idx[i],o])}
 * where zero is the unpacked {@code qzeros} value, plus one when {@link GptqSpec#zeroPlusOne()}.
 * The runtime prepares its own layout from these tensors at load time.
 */
public record GptqLinear(
        String name,    // e.g. model.layers.0.self_attn.q_proj
        GptqSpec spec,
        int inFeatures,
        int outFeatures,
        Tensor qweight, // int32 (in*bits/32, out)
        Tensor qzeros,  // int32 (groups, out*bits/32)
        Tensor scales,  // f16 (groups, out)
        Tensor gIdx,    // int32 (in), or null where the file has none (then g_idx[i] = i / groupSize)
        Tensor bias)    // f16 (out), or null
        implements Linear {

    /** The group of original input feature {@code i}. */
    public int group(int i) {
        if (gIdx != null) return gIdx.data().get(ValueLayout.JAVA_INT_UNALIGNED, 4L * i);
        return spec.groupSize() == -1 ? 0 : i / spec.groupSize();
    }

    /** Words per qzeros row: the row's byte size over 4 (a row may carry padding bits after the last zero). */
    public int zeroWords() {
        return Math.toIntExact(qzeros.info().dim(1));
    }

    /** bias[o] widened from f16, or 0 without a bias. */
    public float bias(int o) {
        if (bias == null) return 0f;
        return Float.float16ToFloat(bias.data().getAtIndex(LittleEndian.I16, o));
    }

    @Override
    public long weightBytes() {
        long b = qweight.data().byteSize() + qzeros.data().byteSize() + scales.data().byteSize();
        return bias == null ? b : b + bias.data().byteSize();
    }
}
