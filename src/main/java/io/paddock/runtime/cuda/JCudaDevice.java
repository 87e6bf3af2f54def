package io.paddock.runtime.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import jcuda.CudaException;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * CUDA device 0 through the driver API (JCuda): its primary context, cuMemAlloc'd memory, modules from a prebuilt
 * cubin or from PTX ({@link PtxCompiler}: prebuilt, cached or NVRTC). All work goes to one non-blocking stream
 * this device creates: launches, memsets and device-to-device copies are asynchronous on it; host copies are
 * cuMemcpy*Async followed by cuStreamSynchronize, so the host memory may be reused when they return. Graphs are
 * captured from that stream (cuStreamBeginCapture in thread-local mode, cuStreamEndCapture, cuGraphInstantiate)
 * and launched on it (cuGraphLaunch). The only class that calls the driver for the runtime; the context is made
 * current on whichever thread calls, as the engine thread is not the thread that opened the device.
 */
public final class JCudaDevice implements GpuDevice {
    // Host segments are copied in slices: a ByteBuffer view is limited to 2 GiB.
    private static final long COPY_SLICE = 1L << 30;
    private static final System.Logger LOG = System.getLogger(JCudaDevice.class.getName());

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final PtxCompiler compiler;
    private final Map<String, String> images = new LinkedHashMap<>();
    private final String name;
    private final int cc, sms, driverVersion;
    private final CUstream stream = new CUstream();
    private final LinkedHashSet<Graph> graphs = new LinkedHashSet<>();   // instantiated and not yet destroyed
    private int capturedNodes = -1;   // >= 0 while a capture is in progress
    private Thread boundThread;
    private boolean closed;

    /** Opens device 0; fails (with the driver's error) where there is no usable device. */
    public static JCudaDevice open(CudaOptions options) {
        return new JCudaDevice(options);
    }

    private JCudaDevice(CudaOptions options) {
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        cuDeviceGet(device, 0);
        cuDevicePrimaryCtxRetain(context, device);
        try {
            bind();
            byte[] n = new byte[256];
            cuDeviceGetName(n, n.length, device);
            this.name = new String(n, StandardCharsets.US_ASCII).replace("\0", "").trim();
            this.cc = 10 * attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
                    + attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            this.sms = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
            int[] v = new int[1];
            cuDriverGetVersion(v);
            this.driverVersion = v[0];
            this.compiler = new PtxCompiler(options);
            // Non-blocking: no implicit synchronisation with the legacy default stream, which nothing here uses.
            cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        } catch (RuntimeException | Error e) {
            cuDevicePrimaryCtxRelease(device);
            throw e;
        }
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attr, device);
        return v[0];
    }

    /** Makes the context current where the calling thread is not the one that last used it. */
    private void bind() {
        if (closed) throw new IllegalStateException("the CUDA device is closed");
        Thread t = Thread.currentThread();
        if (t != boundThread) {
            cuCtxSetCurrent(context);
            boundThread = t;
        }
    }

    @Override public String name() { return name; }

    @Override public int computeCapability() { return cc; }

    @Override public int multiprocessorCount() { return sms; }

    /** The driver's CUDA version, e.g. 13000 for 13.0. */
    public int driverVersion() { return driverVersion; }

    @Override
    public CudaDevices.MemInfo memInfo() {
        bind();
        long[] free = new long[1], total = new long[1];
        cuMemGetInfo(free, total);
        return new CudaDevices.MemInfo(free[0], total[0]);
    }

    @Override
    public long alloc(long bytes) {
        bind();
        refuseDuringCapture("alloc");
        Ptr p = new Ptr();
        try {
            cuMemAlloc(p, Math.max(bytes, 4));
        } catch (CudaException e) {
            if (String.valueOf(e.getMessage()).contains(CUresult.stringFor(CUresult.CUDA_ERROR_OUT_OF_MEMORY))) {
                throw new GpuOutOfMemoryException("cuMemAlloc of " + bytes + " bytes on " + name + ": out of memory", e);
            }
            throw e;
        }
        return p.address();
    }

    @Override
    public void free(long address) {
        bind();
        refuseDuringCapture("free");
        cuMemFree(Ptr.at(address));
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src) {
        bind();
        refuseDuringCapture("copyToDevice");
        for (long off = 0; off < src.byteSize(); off += COPY_SLICE) {
            long n = Math.min(COPY_SLICE, src.byteSize() - off);
            MemorySegment slice = src.asSlice(off, n);
            Pointer host = slice.isNative() ? Pointer.to(slice.asByteBuffer()) : Pointer.to(slice.toArray(ValueLayout.JAVA_BYTE));
            cuMemcpyHtoDAsync(Ptr.at(dst + off), host, n, stream);
            // JCuda releases a Java array's memory when the call returns: wait before it may be reused.
            cuStreamSynchronize(stream);
        }
    }

    @Override
    public void copyToHost(MemorySegment dst, long src) {
        bind();
        refuseDuringCapture("copyToHost");
        for (long off = 0; off < dst.byteSize(); off += COPY_SLICE) {
            long n = Math.min(COPY_SLICE, dst.byteSize() - off);
            MemorySegment slice = dst.asSlice(off, n);
            if (slice.isNative()) {
                cuMemcpyDtoHAsync(Pointer.to(slice.asByteBuffer()), Ptr.at(src + off), n, stream);
                cuStreamSynchronize(stream);
            } else {
                byte[] tmp = new byte[(int) n];
                cuMemcpyDtoHAsync(Pointer.to(tmp), Ptr.at(src + off), n, stream);
                cuStreamSynchronize(stream);
                MemorySegment.copy(MemorySegment.ofArray(tmp), 0, slice, 0, n);
            }
        }
    }

    @Override
    public void copyDeviceToDevice(long dst, long src, long bytes) {
        bind();
        refuseDuringCapture("copyDeviceToDevice");
        cuMemcpyDtoDAsync(Ptr.at(dst), Ptr.at(src), bytes, stream);
    }

    @Override
    public void memsetD32(long dst, int value, long count) {
        bind();
        cuMemsetD32Async(Ptr.at(dst), value, count, stream);
        if (capturedNodes >= 0) capturedNodes++;
    }

    @Override
    public GpuModule loadModule(String sourceName, String source) {
        bind();
        // A prebuilt cubin for exactly this compute capability needs no JIT; where the driver refuses it (e.g. a
        // driver older than the nvcc that built it), the PTX path below still runs.
        String refused = "";
        var cubin = compiler.cubin(sourceName, cc / 10, cc % 10);
        if (cubin.isPresent()) {
            CUmodule m = new CUmodule();
            try {
                cuModuleLoadData(m, cubin.get().image()); // an ELF image, passed as it is (no NUL terminator)
                images.put(sourceName, "cubin " + cubin.get().file());
                return new Module(sourceName, m);
            } catch (CudaException e) {
                refused = " (cubin " + cubin.get().file() + " refused: " + e.getMessage() + ")";
                LOG.log(System.Logger.Level.WARNING, "driver refused cubin {0}: {1}; loading PTX instead",
                        cubin.get().file(), e.getMessage());
            }
        }
        String ptx = compiler.ptx(sourceName, source, cc / 10, cc % 10);
        PtxCompatibility.check(ptx, driverVersion, cc).ifPresent(why -> {
            throw new IllegalStateException(sourceName + ": " + why);
        });
        byte[] bytes = ptx.getBytes(StandardCharsets.UTF_8);
        CUmodule m = new CUmodule();
        cuModuleLoadData(m, Arrays.copyOf(bytes, bytes.length + 1)); // the driver wants a NUL-terminated image
        images.put(sourceName, compiler.ptxOrigin(sourceName) + refused);
        return new Module(sourceName, m);
    }

    /**
     * How each module was loaded, by source name, in load order: "cubin FILE", "prebuilt PTX FILE", "cached PTX
     * FILE" or "NVRTC PTX for compute_XY" (scripts/gpu-check reports it).
     */
    public Map<String, String> moduleImages() {
        return Collections.unmodifiableMap(images);
    }

    private final class Module implements GpuModule {
        private final String source;
        private CUmodule module;

        Module(String source, CUmodule module) {
            this.source = source;
            this.module = module;
        }

        @Override
        public GpuFunction function(KernelSpec spec) {
            bind();
            CUfunction f = new CUfunction();
            try {
                cuModuleGetFunction(f, module, spec.name());
            } catch (CudaException e) {
                throw new IllegalStateException(source + " has no kernel " + spec.name() + ": " + e.getMessage(), e);
            }
            return new Function(spec, f);
        }

        @Override
        public void close() {
            if (module == null) return;
            bind();
            cuModuleUnload(module);
            module = null;
        }
    }

    private record Function(KernelSpec spec, CUfunction handle) implements GpuFunction {}

    @Override
    public void launch(GpuFunction f, Dim3 grid, Dim3 block, long[] args) {
        bind();
        Function fn = (Function) f;
        NativePointerObject[] ps = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            ps[i] = fn.spec().params().get(i).bytes == 4 ? Pointer.to(new int[] {(int) args[i]}) : Pointer.to(new long[] {args[i]});
        }
        // The driver copies the argument values (into the launch, or into the graph node while capturing).
        cuLaunchKernel(fn.handle(), grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(), 0, stream, Pointer.to(ps), null);
        if (capturedNodes >= 0) capturedNodes++;
    }

    @Override
    public void beginCapture() {
        bind();
        if (capturedNodes >= 0) throw new IllegalStateException("beginCapture: a graph capture is already in progress");
        // Thread-local: only this thread's unsafe calls (allocation, synchronous copies) invalidate the capture.
        cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        capturedNodes = 0;
    }

    @Override
    public GpuGraph endCapture() {
        bind();
        if (capturedNodes < 0) throw new IllegalStateException("endCapture without beginCapture");
        int nodes = capturedNodes;
        capturedNodes = -1;
        CUgraph g = new CUgraph();
        cuStreamEndCapture(stream, g);   // throws where the capture was invalidated; the stream is out of capture then
        try {
            CUgraphExec exec = new CUgraphExec();
            cuGraphInstantiate(exec, g, 0);
            Graph graph = new Graph(exec, nodes);
            graphs.add(graph);
            return graph;
        } finally {
            cuGraphDestroy(g);   // the executable graph is independent of the graph it was made from
        }
    }

    @Override
    public void launchGraph(GpuGraph graph) {
        bind();
        if (!(graph instanceof Graph g) || !graphs.contains(g)) {
            throw new IllegalArgumentException("not a live graph of this device: " + graph);
        }
        if (capturedNodes >= 0) throw new IllegalStateException("launchGraph during a graph capture");
        cuGraphLaunch(g.exec, stream);
    }

    private void refuseDuringCapture(String call) {
        if (capturedNodes >= 0) {
            throw new IllegalStateException(call + " during a graph capture: a graph holds kernel launches and memsets only"
                    + " (copy before beginCapture or after endCapture)");
        }
    }

    private final class Graph implements GpuGraph {
        private final CUgraphExec exec;
        private final int nodes;

        Graph(CUgraphExec exec, int nodes) {
            this.exec = exec;
            this.nodes = nodes;
        }

        @Override
        public int nodes() {
            return nodes;
        }

        @Override
        public void close() {
            if (!graphs.remove(this) || closed) return;
            bind();
            cuGraphExecDestroy(exec);
        }
    }

    @Override
    public void synchronize() {
        bind();
        if (capturedNodes >= 0) throw new IllegalStateException("synchronize during a graph capture");
        cuStreamSynchronize(stream);
    }

    @Override
    public void close() {
        if (closed) return;
        try {
            bind();
            for (Graph g : java.util.List.copyOf(graphs)) g.close();
            cuStreamDestroy(stream);
        } finally {
            closed = true;
            cuDevicePrimaryCtxRelease(device);
        }
    }

    /** A CUdeviceptr that reveals its address; built from an address for the calls that take one. */
    private static final class Ptr extends CUdeviceptr {
        Ptr() {}

        private Ptr(long address) {
            super(new CUdeviceptr(), address);
        }

        static Ptr at(long address) {
            return new Ptr(address);
        }

        long address() {
            return getNativePointer() + getByteOffset();
        }
    }
}
