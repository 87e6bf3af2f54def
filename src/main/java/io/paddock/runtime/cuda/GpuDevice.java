package io.paddock.runtime.cuda;

import java.lang.foreign.MemorySegment;

/**
 * The driver calls {@link CudaRuntime} makes, and nothing else: memory, copies, modules, launches, memory info.
 * Two implementations: {@link JCudaDevice} (device 0 through the real CUDA driver) and, in the tests, a simulated
 * device that compiles the same {@code .cu} sources for the CPU and runs each launch with the packed arguments
 * exactly as the driver would unpack them. Device memory is addressed by plain {@code long} addresses; 0 is null.
 *
 * <p>All work is ordered as on one CUDA stream: a launch sees every earlier copy and launch. Copies return once the
 * host memory may be reused (to the host: once the data is there). Launches and memsets may be captured into a
 * {@link GpuGraph} and replayed ({@link #beginCapture()}). Not thread-safe: the runtime's owner thread makes every call.
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

    /**
     * Starts recording: until {@link #endCapture()}, {@link #launch} and {@link #memsetD32} are recorded into a graph
     * instead of running, in issue order. A graph holds kernels and memsets only: host copies during a capture
     * (either direction), device-to-device copies, allocation and freeing are refused with an
     * {@link IllegalStateException}, and so is a second {@code beginCapture}. Everything a recorded launch reads
     * (its grid, block and scalar arguments, the addresses it is given) is fixed at capture; only the contents of
     * device memory may differ between replays.
     */
    void beginCapture();

    /** Ends the recording {@link #beginCapture()} started and returns it as a launchable graph (maybe empty). */
    GpuGraph endCapture();

    /**
     * Runs {@code graph}'s launches and memsets in their recorded order, ordered like one launch against the work
     * issued before and after it.
     */
    void launchGraph(GpuGraph graph);

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

    /**
     * A recorded sequence of launches and memsets (cuGraphExec); {@link #close()} releases it, after which it must not
     * be launched. Graphs are owned by whoever ended the capture and must be closed before the device is.
     */
    interface GpuGraph extends AutoCloseable {
        /** Kernel launches and memsets recorded. */
        int nodes();

        @Override
        void close();
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
