package io.paddock.runtime.cuda;

import java.lang.foreign.MemorySegment;

/** A {@link GpuDevice} that passes every call to another; tests override the calls they watch or change. */
class ForwardingGpuDevice implements GpuDevice {
    protected final GpuDevice d;

    ForwardingGpuDevice(GpuDevice d) {
        this.d = d;
    }

    @Override public String name() { return d.name(); }
    @Override public int computeCapability() { return d.computeCapability(); }
    @Override public int multiprocessorCount() { return d.multiprocessorCount(); }
    @Override public CudaDevices.MemInfo memInfo() { return d.memInfo(); }
    @Override public long alloc(long bytes) { return d.alloc(bytes); }
    @Override public void free(long address) { d.free(address); }
    @Override public void copyToDevice(long dst, MemorySegment src) { d.copyToDevice(dst, src); }
    @Override public void copyToHost(MemorySegment dst, long src) { d.copyToHost(dst, src); }
    @Override public void copyDeviceToDevice(long dst, long src, long bytes) { d.copyDeviceToDevice(dst, src, bytes); }
    @Override public void memsetD32(long dst, int value, long count) { d.memsetD32(dst, value, count); }
    @Override public GpuModule loadModule(String name, String source) { return d.loadModule(name, source); }
    @Override public void launch(GpuFunction f, Dim3 grid, Dim3 block, long[] args) { d.launch(f, grid, block, args); }
    @Override public void beginCapture() { d.beginCapture(); }
    @Override public GpuGraph endCapture() { return d.endCapture(); }
    @Override public void launchGraph(GpuGraph graph) { d.launchGraph(graph); }
    @Override public void synchronize() { d.synchronize(); }
    @Override public void close() { d.close(); }
}
