package io.paddock.runtime;

/**
 * Precomputed rotary-embedding angles, so the per-token RoPE is multiply-adds only.
 *
 * @param cos     (maxPositions, headDim/2): cos(pos * theta^(-2i/headDim))
 * @param sin     (maxPositions, headDim/2): sin of the same angle
 * @param headDim the head size the table was built for (even)
 */
public record RopeTable(float[] cos, float[] sin, int headDim) {
    public RopeTable {
        if (headDim <= 0 || headDim % 2 != 0) throw new IllegalArgumentException("headDim must be even and > 0: " + headDim);
        if (cos.length != sin.length || cos.length % (headDim / 2) != 0) {
            throw new IllegalArgumentException("cos/sin must both be (maxPositions, headDim/2)");
        }
    }

    /**
     * Follows HF LlamaRotaryEmbedding's fp32 arithmetic (inv_freq = 1 / theta^(2i/headDim) in fp32, angle =
     * pos * inv_freq rounded to fp32) rather than exact double angles: at positions in the thousands the fp32
     * angle differs from the exact one by ~1e-4 rad, and the checkpoints were trained with the fp32 one.
     */
    public static RopeTable create(int headDim, int maxPositions, double theta) {
        if (headDim <= 0 || headDim % 2 != 0) throw new IllegalArgumentException("headDim must be even and > 0: " + headDim);
        if (maxPositions < 0) throw new IllegalArgumentException("maxPositions must be >= 0: " + maxPositions);
        int half = headDim / 2;
        float[] cos = new float[Math.multiplyExact(maxPositions, half)];
        float[] sin = new float[cos.length];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            float invFreq = 1f / (float) Math.pow(theta, exponent);
            for (int pos = 0; pos < maxPositions; pos++) {
                float angle = pos * invFreq;
                cos[pos * half + i] = (float) Math.cos(angle);
                sin[pos * half + i] = (float) Math.sin(angle);
            }
        }
        return new RopeTable(cos, sin, headDim);
    }

    public int maxPositions() {
        return cos.length / (headDim / 2);
    }
}
