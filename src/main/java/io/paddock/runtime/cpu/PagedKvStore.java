package io.paddock.runtime.cpu;

import io.paddock.runtime.KvStore;

/**
 * KV-cache memory for the CPU runtime, in fixed-size blocks shared by all sequences. Position p of a sequence lives
 * in block {@code blockTable[p / blockSize]} at slot {@code p % blockSize}; which blocks a sequence owns is decided
 * by the KV-cache manager, never here. Allocated once, up front.
 */
public final class PagedKvStore implements KvStore {
    private final float[][] keys;   // (layers) x (numBlocks*blockSize, kvDim)
    private final float[][] values; // (layers) x (numBlocks*blockSize, kvDim)
    private final int numBlocks;
    private final int blockSize;
    private final int kvDim;

    public PagedKvStore(int layers, int numBlocks, int blockSize, int kvDim) {
        if (numBlocks <= 0 || blockSize <= 0) throw new IllegalArgumentException("numBlocks and blockSize must be > 0");
        long perLayer = (long) numBlocks * blockSize * kvDim;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV pool of " + numBlocks + " blocks x " + blockSize + " tokens x "
                    + kvDim + " floats exceeds one array per layer; use fewer blocks");
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvDim = kvDim;
        this.keys = new float[layers][(int) perLayer];
        this.values = new float[layers][(int) perLayer];
    }

    /** Bytes one cached token takes across all layers (keys and values). */
    public static long bytesPerToken(int layers, int kvDim) {
        return 2L * layers * kvDim * Float.BYTES;
    }

    @Override public int numBlocks() { return numBlocks; }

    @Override public int blockSize() { return blockSize; }

    public int kvDim() { return kvDim; }

    @Override public long bytes() { return 2L * keys.length * keys[0].length * Float.BYTES; }

    float[] keys(int layer) { return keys[layer]; }

    float[] values(int layer) { return values[layer]; }

    /** Float offset of position {@code pos} of the sequence with {@code blockTable}. */
    int offset(int[] blockTable, int pos) {
        int block = blockTable[pos / blockSize];
        return (block * blockSize + pos % blockSize) * kvDim;
    }

    void store(int layer, int[] blockTable, int pos, float[] k, int kOff, float[] v, int vOff) {
        int at = offset(blockTable, pos);
        System.arraycopy(k, kOff, keys[layer], at, kvDim);
        System.arraycopy(v, vOff, values[layer], at, kvDim);
    }
}
