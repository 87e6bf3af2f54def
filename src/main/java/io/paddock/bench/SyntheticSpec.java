package io.paddock.bench;

/**
 * What {@link SyntheticCheckpoint} writes.
 *
 * @param layers    decoder layers actually written (the shape's own count, or fewer for a quick file)
 * @param format    GPTQ-packed linear layers, or a dense F16 checkpoint of the same shape for comparison
 * @param bits      2, 3, 4 or 8 (GPTQ only)
 * @param groupSize input features per group, or -1 for one group (GPTQ only)
 * @param actOrder  g_idx is a random permutation with exactly groupSize features per group (GPTQ only)
 * @param seed      all values derive from it and the tensor name, so the same spec gives the same bytes
 */
public record SyntheticSpec(SyntheticShape shape, int layers, Format format, int bits, int groupSize,
        boolean actOrder, long seed) {

    public enum Format { GPTQ, F16 }

    public SyntheticSpec {
        if (layers <= 0) throw new IllegalArgumentException("layers must be positive, got " + layers);
        if (format == Format.GPTQ) {
            if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
                throw new IllegalArgumentException("bits must be 2, 3, 4 or 8, got " + bits);
            }
            if (groupSize != -1 && groupSize <= 0) {
                throw new IllegalArgumentException("group size must be -1 (none) or positive, got " + groupSize);
            }
            for (int in : new int[] {shape.hidden(), shape.intermediate()}) {
                // 3-bit packing needs whole 32-value lines; act-order needs whole groups
                if (in % 32 != 0 || (groupSize != -1 && in % groupSize != 0)) {
                    throw new IllegalArgumentException("shape " + shape.name() + ": " + in + " input features do not"
                            + " split into " + (in % 32 != 0 ? "32-value packed lines" : "groups of " + groupSize));
                }
            }
        }
    }

    /** A GPTQ checkpoint with all of the shape's layers. */
    public static SyntheticSpec gptq(SyntheticShape shape, int bits, int groupSize, boolean actOrder) {
        return new SyntheticSpec(shape, shape.layers(), Format.GPTQ, bits, groupSize, actOrder, 0);
    }

    /** A dense F16 checkpoint with all of the shape's layers. */
    public static SyntheticSpec f16(SyntheticShape shape) {
        return new SyntheticSpec(shape, shape.layers(), Format.F16, 16, -1, false, 0);
    }

    public SyntheticSpec withLayers(int n) {
        return new SyntheticSpec(shape, n, format, bits, groupSize, actOrder, seed);
    }

    public SyntheticSpec withSeed(long s) {
        return new SyntheticSpec(shape, layers, format, bits, groupSize, actOrder, s);
    }

    public boolean isGptq() {
        return format == Format.GPTQ;
    }

    /** e.g. "llama-7b 32 layers, GPTQ 4-bit g128 act-order". */
    public String describe() {
        String q = !isGptq() ? "F16" : "GPTQ " + bits + "-bit " + (groupSize == -1 ? "no groups" : "g" + groupSize)
                + (actOrder ? " act-order" : "");
        return shape.name() + " " + layers + " layer" + (layers == 1 ? "" : "s") + ", " + q;
    }
}
