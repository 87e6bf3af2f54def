package io.paddock.lora;

/**
 * One adapted linear layer: {@code y += scale · B·(A·x)} with A of shape [rank, in] and B of shape [out, rank], both
 * row-major float32 (half-precision adapters are widened when read, exactly). {@code scale} is {@code lora_alpha / r}
 * (or {@code lora_alpha / √r} for rsLoRA), already resolved for this module.
 */
public record LoraPair(int rank, int in, int out, float[] a, float[] b, float scale) {
    public LoraPair {
        if (rank < 1 || in < 1 || out < 1) {
            throw new IllegalArgumentException("LoRA shapes must be positive: rank " + rank + ", in " + in + ", out " + out);
        }
        if (a.length != rank * in) throw new IllegalArgumentException("lora_A holds " + a.length + " values, not " + rank + "x" + in);
        if (b.length != out * rank) throw new IllegalArgumentException("lora_B holds " + b.length + " values, not " + out + "x" + rank);
    }

    /** Bytes the two matrices take as float32. */
    public long bytes() {
        return (long) (a.length + b.length) * Float.BYTES;
    }
}
