package io.paddock.runtime.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;

/** Owns device allocations: everything allocated here is freed by {@link #close()} (or earlier by {@link #free}). */
final class DeviceMemory implements AutoCloseable {
    // Host segments are copied in slices: a ByteBuffer view is limited to 2 GiB.
    private static final long COPY_SLICE = 1L << 30;

    private final List<CUdeviceptr> live = new ArrayList<>();
    private long bytes;

    CUdeviceptr alloc(long size) {
        CUdeviceptr p = new CUdeviceptr();
        cuMemAlloc(p, Math.max(size, 4));
        live.add(p);
        bytes += size;
        return p;
    }

    void free(CUdeviceptr p, long size) {
        if (p != null && live.remove(p)) {
            cuMemFree(p);
            bytes -= size;
        }
    }

    long bytes() {
        return bytes;
    }

    CUdeviceptr upload(float[] a) {
        CUdeviceptr p = alloc((long) a.length * Sizeof.FLOAT);
        cuMemcpyHtoD(p, Pointer.to(a), (long) a.length * Sizeof.FLOAT);
        return p;
    }

    CUdeviceptr upload(int[] a) {
        CUdeviceptr p = alloc((long) a.length * Sizeof.INT);
        cuMemcpyHtoD(p, Pointer.to(a), (long) a.length * Sizeof.INT);
        return p;
    }

    /** Copies a (possibly memory-mapped, unaligned) host segment byte for byte. */
    CUdeviceptr upload(MemorySegment seg) {
        CUdeviceptr p = alloc(seg.byteSize());
        for (long off = 0; off < seg.byteSize(); off += COPY_SLICE) {
            long n = Math.min(COPY_SLICE, seg.byteSize() - off);
            MemorySegment slice = seg.asSlice(off, n);
            if (slice.isNative()) {
                cuMemcpyHtoD(p.withByteOffset(off), Pointer.to(slice.asByteBuffer()), n);
            } else {
                cuMemcpyHtoD(p.withByteOffset(off), Pointer.to(slice.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)), n);
            }
        }
        return p;
    }

    static void copyToHost(CUdeviceptr src, float[] dst, int count) {
        cuMemcpyDtoH(Pointer.to(dst), src, (long) count * Sizeof.FLOAT);
    }

    static void copyToDevice(CUdeviceptr dst, int[] src, int count) {
        cuMemcpyHtoD(dst, Pointer.to(src), (long) count * Sizeof.INT);
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (int i = live.size() - 1; i >= 0; i--) {
            try {
                cuMemFree(live.get(i));
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        live.clear();
        bytes = 0;
        if (first != null) throw first;
    }
}
