package io.paddock.runtime.cuda;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Owns device allocations: everything allocated here is freed by {@link #close()} (or earlier by {@link #free}).
 * Addresses are plain longs (0 = null) as {@link GpuDevice} hands them out.
 */
final class DeviceMemory implements AutoCloseable {
    private final GpuDevice device;
    private final Map<Long, Long> live = new LinkedHashMap<>(); // address -> bytes, in allocation order
    private long bytes;

    DeviceMemory(GpuDevice device) {
        this.device = device;
    }

    GpuDevice device() {
        return device;
    }

    long alloc(long size) {
        long p = device.alloc(size);
        live.put(p, size);
        bytes += size;
        return p;
    }

    /** Frees {@code p} if this owner allocated it and has not freed it yet; 0 is ignored. */
    void free(long p) {
        Long size = p == 0 ? null : live.remove(p);
        if (size != null) {
            device.free(p);
            bytes -= size;
        }
    }

    /** Bytes held now. */
    long bytes() {
        return bytes;
    }

    long upload(float[] a) {
        return upload(MemorySegment.ofArray(a));
    }

    long upload(int[] a) {
        return upload(MemorySegment.ofArray(a));
    }

    /** Copies a (possibly memory-mapped, unaligned) host segment byte for byte into a new allocation. */
    long upload(MemorySegment seg) {
        long p = alloc(seg.byteSize());
        device.copyToDevice(p, seg);
        return p;
    }

    void copyToDevice(long dst, int[] src, int count) {
        device.copyToDevice(dst, MemorySegment.ofArray(src).asSlice(0, (long) count * Integer.BYTES));
    }

    void copyToDevice(long dst, float[] src, int count) {
        device.copyToDevice(dst, MemorySegment.ofArray(src).asSlice(0, (long) count * Float.BYTES));
    }

    void copyToHost(long src, float[] dst, int count) {
        device.copyToHost(MemorySegment.ofArray(dst).asSlice(0, (long) count * Float.BYTES), src);
    }

    @Override
    public void close() {
        RuntimeException first = null;
        Long[] addresses = live.keySet().toArray(new Long[0]);
        for (int i = addresses.length - 1; i >= 0; i--) {
            try {
                device.free(addresses[i]);
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        live.clear();
        bytes = 0;
        if (first != null) throw first;
    }
}
