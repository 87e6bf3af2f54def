package io.paddock.runtime.cuda;

import java.lang.foreign.MemorySegment;

/**
 * The driver calls {@link CudaRuntime} makes, and nothing else: memory, copies, modules, launches, memory info.
 * Two implementations: {@link JCudaDevice} (device 0 through the real CUDA driver) and, in the tests, a simulated
 * device that compiles the same {@code .cu} sources for the CPU and runs each launch with the packed arguments
 * exactly as the driver would unpack them. Device memory is addressed by plain {@code long} addresses; 0 is null.
 *
 * <p>All work is ordered as on one CUDA stream: a launch sees every earlier copy and launch. Copies to the host
 * return once the data is there. Not thread-safe: the runtime's owner thread makes every call.
 */
public interface GpuDevice extends AutoCloseable {

    /** The device's name as its driver reports it, e.g. "NVIDIA H100 80GB HBM3". */
    String name();

    /** Compute capability as major·10 + minor, e.g. 90 for sm_90. */
    int computeCapability();

    int multiprocessorCount();

    /** Free and total device memory now. */
    CudaDevices.MemInfo memInfo();

    /**
     * Allocates {@code bytes} (at least 256-byte aligned, as cuMemAlloc); throws {@link GpuOutOfMemoryException}
     * where the device cannot hold them.
     */
    long alloc(long bytes);

    /** Frees an address {@link #alloc} returned. */
    void free(long address);

    /** Copies all of {@code src} (host memory, heap or native) to device address {@code dst}. */
    void copyToDevice(long dst, MemorySegment src);

    /** Copies {@code dst.byteSize()} bytes from device address {@code src} into {@code dst}. */
    void copyToHost(MemorySegment dst, long src);

    /** Copies {@code bytes} from device address {@code src} to device address {@code dst} (ranges must not overlap). */
    void copyDeviceToDevice(long dst, long src, long bytes);

    /** Sets {@code count} 32-bit words at {@code dst} to {@code value}. */
    void memsetD32(long dst, int value, long count);

    /** Compiles (or takes from a cache) and loads one self-contained CUDA C source as a module. */
    GpuModule loadModule(String name, String source);

    /**
     * Launches {@code f} over {@code grid} blocks of {@code block} threads with the raw argument bits of
     * {@link KernelSpec#pack}; no dynamic shared memory.
     */
    void launch(GpuFunction f, Dim3 grid, Dim3 block, long[] args);

    /** Waits for all issued work; surfaces any asynchronous launch failure. */
    void synchronize();

    /** Releases the device (context); the owner frees its allocations first. */
    @Override
    void close();

    /** A loaded module. */
    interface GpuModule extends AutoCloseable {
        /** The entry {@code spec.name()}; fails where the module does not export it. */
        GpuFunction function(KernelSpec spec);

        @Override
        void close();
    }

    /** A kernel entry of a loaded module. */
    interface GpuFunction {
        KernelSpec spec();
    }

    /** Grid or block dimensions. */
    record Dim3(int x, int y, int z) {
        public Dim3 {
            if (x < 1 || y < 1 || z < 1) throw new IllegalArgumentException("dimensions must be >= 1: " + x + "x" + y + "x" + z);
        }

        public static Dim3 of(int x, int y) {
            return new Dim3(x, y, 1);
        }

        public long count() {
            return (long) x * y * z;
        }
    }
}
