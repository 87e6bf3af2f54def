package io.paddock.runtime.cuda;

import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.KvStore;

/**
 * The KV pool in VRAM, laid out as {@code PagedKvStore}: per layer K and V each (numBlocks·blockSize, kvDim) of
 * fp16 (raw IEEE half words, what kv_store_f16 writes) or fp32.
 * The memory belongs to the {@link CudaRuntime} that made it and is freed with it (or by {@link #close()}).
 */
public final class CudaKvStore implements KvStore, AutoCloseable {
    private final DeviceMemory memory;
    private final int layers, numBlocks, blockSize, kvDim;
    private final KvCacheDtype dtype;
    private long keys, values; // (layers, numBlocks·blockSize, kvDim) each

    CudaKvStore(DeviceMemory memory, int layers, int numBlocks, int blockSize, int kvDim, KvCacheDtype dtype) {
        if (numBlocks <= 0 || blockSize <= 0) throw new IllegalArgumentException("numBlocks and blockSize must be > 0");
        if (dtype != KvCacheDtype.F16 && dtype != KvCacheDtype.F32) {
            throw new IllegalArgumentException("the CUDA KV pool is f16 or f32, not " + dtype);
        }
        this.dtype = dtype;
        this.memory = memory;
        this.layers = layers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvDim = kvDim;
        this.keys = memory.alloc(layerBytes() * layers);
        try {
            this.values = memory.alloc(layerBytes() * layers);
        } catch (RuntimeException e) {
            memory.free(keys);
            throw e;
        }
    }

    private long layerBytes() {
        return (long) numBlocks * blockSize * kvDim * dtype.bytes();
    }

    long keys(int layer) {
        return keys + layer * layerBytes();
    }

    long values(int layer) {
        return values + layer * layerBytes();
    }

    boolean isOpen() {
        return keys != 0;
    }

    @Override public int numBlocks() { return numBlocks; }

    @Override public int blockSize() { return blockSize; }

    @Override public long bytes() { return 2 * layerBytes() * layers; }

    @Override public KvCacheDtype dtype() { return dtype; }

    /** Frees the pool early; otherwise the owning runtime frees it on close. */
    @Override
    public void close() {
        if (keys == 0) return;
        memory.free(keys);
        memory.free(values);
        keys = values = 0;
    }
}
