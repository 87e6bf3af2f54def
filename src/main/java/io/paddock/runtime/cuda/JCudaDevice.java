package io.paddock.runtime.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * CUDA device 0 through the driver API (JCuda): its primary context, cuMemAlloc'd memory, modules from a prebuilt
 * cubin or from PTX ({@link PtxCompiler}: prebuilt, cached or NVRTC), launches on the default stream. The only
 * class that calls the driver for the runtime; the context is made current on whichever thread calls, as the
 * engine thread is not the thread that opened the device.
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
        cuMemFree(Ptr.at(address));
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src) {
        bind();
        for (long off = 0; off < src.byteSize(); off += COPY_SLICE) {
            long n = Math.min(COPY_SLICE, src.byteSize() - off);
            MemorySegment slice = src.asSlice(off, n);
            Pointer host = slice.isNative() ? Pointer.to(slice.asByteBuffer()) : Pointer.to(slice.toArray(ValueLayout.JAVA_BYTE));
            cuMemcpyHtoD(Ptr.at(dst + off), host, n);
        }
    }

    @Override
    public void copyToHost(MemorySegment dst, long src) {
        bind();
        for (long off = 0; off < dst.byteSize(); off += COPY_SLICE) {
            long n = Math.min(COPY_SLICE, dst.byteSize() - off);
            MemorySegment slice = dst.asSlice(off, n);
            if (slice.isNative()) {
                cuMemcpyDtoH(Pointer.to(slice.asByteBuffer()), Ptr.at(src + off), n);
            } else {
                byte[] tmp = new byte[(int) n];
                cuMemcpyDtoH(Pointer.to(tmp), Ptr.at(src + off), n);
                MemorySegment.copy(MemorySegment.ofArray(tmp), 0, slice, 0, n);
            }
        }
    }

    @Override
    public void copyDeviceToDevice(long dst, long src, long bytes) {
        bind();
        cuMemcpyDtoD(Ptr.at(dst), Ptr.at(src), bytes);
    }

    @Override
    public void memsetD32(long dst, int value, long count) {
        bind();
        cuMemsetD32(Ptr.at(dst), value, count);
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
        cuLaunchKernel(fn.handle(), grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(), 0, null, Pointer.to(ps), null);
    }

    @Override
    public void synchronize() {
        bind();
        cuCtxSynchronize();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cuDevicePrimaryCtxRelease(device);
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
