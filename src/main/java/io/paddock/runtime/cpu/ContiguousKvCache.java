package io.paddock.runtime.cpu;

import io.paddock.model.LlamaConfig;

/**
 * One sequence's keys and values, one contiguous block per layer. The paged pool shared by many sequences
 * replaces this in the serving engine; this form keeps single-sequence generation simple.
 */
public final class ContiguousKvCache {
    private final float[][] keys;   // (layers) x (capacity, kvHeads*headDim)
    private final float[][] values; // (layers) x (capacity, kvHeads*headDim)
    private final int capacity;
    private final int kvDim;

    public ContiguousKvCache(LlamaConfig config, int capacity) {
        if (capacity <= 0 || capacity > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("KV capacity " + capacity + " outside 1.."
                    + config.maxPositionEmbeddings());
        }
        this.capacity = capacity;
        this.kvDim = config.numKvHeads() * config.headDim();
        this.keys = new float[config.numLayers()][capacity * kvDim];
        this.values = new float[config.numLayers()][capacity * kvDim];
    }

    public int capacity() { return capacity; }

    float[] keys(int layer) { return keys[layer]; }

    float[] values(int layer) { return values[layer]; }

    void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        System.arraycopy(k, kOff, keys[layer], pos * kvDim, kvDim);
        System.arraycopy(v, vOff, values[layer], pos * kvDim, kvDim);
    }
}
