package io.paddock.bench;

import io.paddock.runtime.cpu.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * This machine's read bandwidth, measured with the same thread pool as the kernel it is compared with: every byte
 * of an off-heap buffer larger than the caches read once with vector loads. Benchmarks interleave probes with
 * their own measurements, because on a shared machine the bandwidth moves from minute to minute.
 */
public final class BandwidthProbe implements AutoCloseable {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final long BLOCK = 1 << 20;

    private final Parallel parallel;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer;
    private final float[] partial; // one sum per block, so the loads cannot be optimised away

    public BandwidthProbe(Parallel parallel, long bytes) {
        this.parallel = parallel;
        long size = Math.max(BLOCK, bytes / BLOCK * BLOCK);
        this.buffer = arena.allocate(size, 64);
        buffer.fill((byte) 1);
        this.partial = new float[(int) (size / BLOCK)];
        // Until C2 compiles the loop the Vector API runs many times slower: warm it before the first real reading.
        for (int i = 0; i < 5; i++) measureGbs();
    }

    public long bytes() {
        return buffer.byteSize();
    }

    /** One timed pass over the buffer; GB/s (1e9 bytes per second). */
    public double measureGbs() {
        long t0 = System.nanoTime();
        int blocks = partial.length;
        parallel.forRange(blocks, 1, (s, e) -> {
            for (int b = s; b < e; b++) partial[b] = sumBlock(buffer, b * BLOCK, BLOCK);
        });
        return buffer.byteSize() / (double) (System.nanoTime() - t0);
    }

    /**
     * Each 1 MB block is read as four interleaved streams, like a kernel reading four weight rows: a single stream
     * per core keeps fewer misses in flight and understates what the memory system delivers.
     */
    private static float sumBlock(MemorySegment buf, long off, long len) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        long step = S.vectorByteSize();
        long q = len / 4;
        for (long i = off, end = off + q; i < end; i += step) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, buf, i, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(S, buf, i + q, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(S, buf, i + 2 * q, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(S, buf, i + 3 * q, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void close() {
        arena.close();
    }
}
