package io.paddock.model;

/**
 * How a GPTQ checkpoint was quantized.
 *
 * @param bits              2, 3, 4 or 8
 * @param groupSize         input features per scale/zero group, or -1 for one group over all inputs
 * @param descAct           act-order: {@code g_idx} is a non-monotonic map from input feature to group
 * @param sym               symmetric quantization (informational: the stored zeros are used either way)
 * @param zeroPlusOne       the stored zero point is the real one minus one (AutoGPTQ's legacy "gptq" format, and
 *                          GPTQ-for-LLaMa); false for {@code checkpoint_format: gptq_v2}
 */
public record GptqSpec(int bits, int groupSize, boolean descAct, boolean sym, boolean zeroPlusOne) {
    public GptqSpec {
        GptqPacking.checkBits(bits);
        if (groupSize != -1 && groupSize <= 0) {
            throw new IllegalArgumentException("GPTQ group size must be -1 (none) or positive, got " + groupSize);
        }
    }

    /** Number of groups for {@code inFeatures} inputs. */
    public int groups(int inFeatures) {
        return groupSize == -1 ? 1 : Math.ceilDiv(inFeatures, groupSize);
    }
}
