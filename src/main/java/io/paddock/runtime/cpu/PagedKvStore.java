package io.paddock.runtime.cpu;

import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.KvStore;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * KV-cache memory for the CPU runtime, in fixed-size blocks shared by all sequences. Position p of a sequence lives
 * in block {@code blockTable[p / blockSize]} at slot {@code p % blockSize}; which blocks a sequence owns is decided
 * by the KV-cache manager, never here. Allocated once, up front, off the Java heap (a shared {@link Arena}: the
 * engine thread writes, the pool's worker threads read) and freed by {@link #close()}.
 *
 * <p>Per layer, keys and values are each (numBlocks·blockSize, kvDim) elements of {@link #dtype()}, little-endian:
 * f32 as is, f16 rounded to nearest even ({@link Float#floatToFloat16}), bf16 rounded to nearest even from the top
 * 16 bits of the float.
 */
public final class PagedKvStore implements KvStore {
    static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena;
    private final MemorySegment[] keys;   // (layers) x (numBlocks*blockSize, kvDim)
    private final MemorySegment[] values; // (layers) x (numBlocks*blockSize, kvDim)
    private final KvCacheDtype dtype;
    private final int numBlocks;
    private final int blockSize;
    private final int kvDim;
    private final long bytes;
    private boolean closed;

    /** An fp32 store (as the tests' oracles use). */
    public PagedKvStore(int layers, int numBlocks, int blockSize, int kvDim) {
        this(layers, numBlocks, blockSize, kvDim, KvCacheDtype.F32);
    }

    /**
     * Allocates {@code 2 · layers · numBlocks · blockSize · kvDim} elements of {@code dtype}, zeroed; on Linux the
     * pages come from the OS as blocks are first written ({@link AnonymousMemory}), so neither start-up time nor
     * resident memory pays for blocks not yet used. Throws
     * {@link IllegalStateException}, with the arithmetic, where the memory cannot be had.
     */
    public PagedKvStore(int layers, int numBlocks, int blockSize, int kvDim, KvCacheDtype dtype) {
        if (numBlocks <= 0 || blockSize <= 0) throw new IllegalArgumentException("numBlocks and blockSize must be > 0");
        if (dtype == KvCacheDtype.AUTO) throw new IllegalArgumentException("resolve kv-cache-dtype auto before allocating");
        this.dtype = dtype;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvDim = kvDim;
        long layerBytes = (long) numBlocks * blockSize * kvDim * dtype.bytes();
        this.bytes = 2L * layers * layerBytes;
        this.arena = Arena.ofShared();
        this.keys = new MemorySegment[layers];
        this.values = new MemorySegment[layers];
        try {
            MemorySegment all = AnonymousMemory.allocate(arena, Math.max(1, bytes));
            for (int l = 0; l < layers; l++) {
                keys[l] = all.asSlice(2L * l * layerBytes, layerBytes);
                values[l] = all.asSlice((2L * l + 1) * layerBytes, layerBytes);
            }
        } catch (OutOfMemoryError | IllegalArgumentException e) {
            arena.close();
            throw new IllegalStateException("could not allocate the KV-cache pool: " + describe(layers) + " = "
                    + mib(bytes) + " MiB off-heap (" + e.getMessage() + "); set paddock.engine.kv-cache-memory lower", e);
        }
    }

    private String describe(int layers) {
        return numBlocks + " blocks x " + blockSize + " tokens x " + bytesPerToken(layers, kvDim, dtype)
                + " bytes/token (" + layers + " layers x 2 x " + kvDim + " x " + dtype.label() + ")";
    }

    static long mib(long b) {
        return b >> 20;
    }

    /** Bytes one cached token takes across all layers (keys and values) in fp32. */
    public static long bytesPerToken(int layers, int kvDim) {
        return bytesPerToken(layers, kvDim, KvCacheDtype.F32);
    }

    /** Bytes one cached token takes across all layers (keys and values) in {@code dtype}. */
    public static long bytesPerToken(int layers, int kvDim, KvCacheDtype dtype) {
        return 2L * layers * kvDim * dtype.bytes();
    }

    @Override public int numBlocks() { return numBlocks; }

    @Override public int blockSize() { return blockSize; }

    @Override public KvCacheDtype dtype() { return dtype; }

    public int kvDim() { return kvDim; }

    @Override public long bytes() { return bytes; }

    MemorySegment keys(int layer) { return keys[layer]; }

    MemorySegment values(int layer) { return values[layer]; }

    /** Element index of position {@code pos} of the sequence with {@code blockTable}. */
    long offset(int[] blockTable, int pos) {
        int block = blockTable[pos / blockSize];
        return ((long) block * blockSize + pos % blockSize) * kvDim;
    }

    void store(int layer, int[] blockTable, int pos, float[] k, int kOff, float[] v, int vOff) {
        long at = offset(blockTable, pos);
        write(keys[layer], at, k, kOff);
        write(values[layer], at, v, vOff);
    }

    private void write(MemorySegment seg, long at, float[] src, int off) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, off, seg, FLOAT, at * Float.BYTES, kvDim);
            case F16 -> {
                for (int i = 0; i < kvDim; i++) seg.set(HALF, (at + i) * 2, Float.floatToFloat16(src[off + i]));
            }
            case BF16 -> {
                for (int i = 0; i < kvDim; i++) seg.set(HALF, (at + i) * 2, toBf16(src[off + i]));
            }
            case AUTO -> throw new IllegalStateException();
        }
    }

    /** Reads back element {@code d} of position {@code pos} as a float (tests, the scalar reference). */
    float read(boolean key, int layer, int[] blockTable, int pos, int d) {
        MemorySegment seg = key ? keys[layer] : values[layer];
        long at = offset(blockTable, pos) + d;
        return switch (dtype) {
            case F32 -> seg.get(FLOAT, at * 4);
            case F16 -> Float.float16ToFloat(seg.get(HALF, at * 2));
            case BF16 -> Float.intBitsToFloat(seg.get(HALF, at * 2) << 16);
            case AUTO -> throw new IllegalStateException();
        };
    }

    /** fp32 to bf16, round to nearest even; NaN stays a (quiet) NaN. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fff_ffff) > 0x7f80_0000) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** Frees the memory; idempotent. Reading a closed store throws IllegalStateException, never crashes. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        arena.close();
    }
}
