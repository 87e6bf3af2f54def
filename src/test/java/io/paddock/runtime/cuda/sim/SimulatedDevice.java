package io.paddock.runtime.cuda.sim;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.paddock.runtime.cuda.CudaDevices;
import io.paddock.runtime.cuda.GpuDevice;
import io.paddock.runtime.cuda.GpuOutOfMemoryException;
import io.paddock.runtime.cuda.KernelSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A {@link GpuDevice} for tests that runs the runtime's real {@code .cu} sources on the CPU: each module is compiled
 * by g++ against the emulation header ({@code src/test/native/cudasim}) and each launch calls the emulator with the
 * argument buffers cuLaunchKernel would get. Launches run to completion before {@link #launch} returns, which keeps
 * the one-stream ordering trivially.
 *
 * <p>Stricter than a GPU on purpose, since the point is to find host bugs before they meet hardware:
 * <ul>
 *   <li>Copies, memsets and every non-null pointer argument of a launch must lie inside one live allocation; an
 *       address outside every allocation fails at once with an {@link IllegalStateException} naming the kernel,
 *       argument and address. The real driver would fault later with an unhelpful sticky error, or not at all and
 *       silently corrupt a neighbouring buffer.</li>
 *   <li>New allocations are filled with 0xFF bytes (NaN floats, -1 ints) unless {@link SimSettings#poisonFreshMemory}
 *       is off: cuMemAlloc does not zero either, and a kernel reading memory nobody wrote should not pass by luck.</li>
 *   <li>A launch checks the argument count and, for 4-byte arguments, that the upper 32 bits are clear; the block
 *       must be within the driver's limits and within the spec's {@link KernelSpec#maxBlockThreads()}. The native side
 *       checks each argument's byte count against the kernel's C++ signature.</li>
 * </ul>
 * Capacity is bookkeeping: an allocation takes host memory for its own size, and one beyond
 * {@link SimSettings#totalBytes} minus what is live throws {@link GpuOutOfMemoryException}; so does one beyond
 * {@link SimSettings#hostMemoryLimit}, as the host cannot back an "80 GiB" device that a planner fills up.
 *
 * <p>Not thread-safe, like the interface; calls may come from any thread one at a time (device memory is C heap and
 * the buffers are shared-arena memory, so nothing is bound to the opening thread).
 */
public final class SimulatedDevice implements GpuDevice {
    /** cuMemAlloc's guaranteed alignment, and the granule capacity is charged in. */
    public static final long ALIGNMENT = 256;

    private static final FunctionDescriptor LAUNCH = FunctionDescriptor.of(JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
    private static final int MAX_BLOCK_THREADS = 1024;
    private static final int MAX_BLOCK_Z = 64;
    private static final int MAX_GRID_YZ = 65535;

    private final SimSettings settings;
    private SimCore core; // loaded with the first module, so memory-only tests need no compiler
    private final AllocationMap allocations = new AllocationMap();
    private final List<Module> modules = new ArrayList<>();
    private final Arena buffers = Arena.ofShared();
    private LaunchArguments arguments;
    private final Map<String, Long> launches = new TreeMap<>();
    private long bytesToDevice, bytesToHost, bytesOnDevice;
    private long directLaunches, graphLaunches;
    private List<Op> capture;   // non-null while a graph is being recorded
    private final List<Graph> graphs = new ArrayList<>();   // live (not closed) graphs
    private boolean closed;
    private int leakedAtClose, leakedGraphsAtClose;

    /**
     * A device as {@code settings} describes. The emulator core is built and loaded by the first
     * {@link #loadModule}, which fails with the reason where it cannot be (see {@link #unavailableReason()}).
     */
    public SimulatedDevice(SimSettings settings) {
        this.settings = settings;
        this.arguments = new LaunchArguments(buffers, 16);
    }

    /** The unit-test default, {@link SimSettings#small()}. */
    public SimulatedDevice() {
        this(SimSettings.small());
    }

    /**
     * Empty where this environment can run the simulation; otherwise one line for a skipped test, e.g. no usable
     * g++. A quick probe (the toolchain's, once per JVM): an emulator that does not compile is not a reason to skip,
     * it fails {@link #loadModule} with the compiler's output.
     */
    public static Optional<String> unavailableReason() {
        return SimCore.unavailableReason();
    }

    /**
     * Builds the modules of {@code sources} (file name to text) in parallel, so the loads that follow are cache
     * hits: a cold g++ build of the four runtime sources takes tens of seconds one after another. Optional; fails
     * with the first build error.
     */
    public static void prebuild(Map<String, String> sources) {
        SimCore core = SimCore.load();
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(sources.size(), SimSettings.defaultWorkers())))) {
            List<Future<Path>> builds = new ArrayList<>();
            sources.forEach((name, text) -> builds.add(pool.submit(() -> core.compile(SimModuleSource.of(name, text)))));
            for (Future<Path> b : builds) b.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building simulated modules", e);
        }
    }

    public SimSettings settings() {
        return settings;
    }

    @Override
    public String name() {
        return settings.name();
    }

    @Override
    public int computeCapability() {
        return settings.computeCapability();
    }

    @Override
    public int multiprocessorCount() {
        return settings.multiprocessorCount();
    }

    @Override
    public CudaDevices.MemInfo memInfo() {
        requireOpen();
        return new CudaDevices.MemInfo(settings.totalBytes() - allocations.charged(), settings.totalBytes());
    }

    @Override
    public long alloc(long bytes) {
        requireOpen();
        refuseDuringCapture("alloc");
        if (bytes < 0) throw new IllegalArgumentException("alloc of " + bytes + " bytes");
        // Like JCudaDevice, a zero-byte request still gets an address; capacity is charged in whole granules.
        long charged = Math.multiplyExact(Math.ceilDiv(Math.max(bytes, 1), ALIGNMENT), ALIGNMENT);
        long free = settings.totalBytes() - allocations.charged();
        if (charged > free) {
            throw new GpuOutOfMemoryException("cuMemAlloc of " + bytes + " bytes on " + name() + ": out of memory ("
                    + free + " of " + settings.totalBytes() + " bytes free in " + allocations.size() + " live allocations)", null);
        }
        if (charged > settings.hostMemoryLimit() - allocations.charged()) {
            throw new GpuOutOfMemoryException("cuMemAlloc of " + bytes + " bytes on " + name() + ": the simulation backs at most "
                    + settings.hostMemoryLimit() + " bytes of device memory with host memory and " + allocations.charged()
                    + " are live (SimSettings.hostMemoryLimit; a smaller totalBytes makes memory planners ask for less)", null);
        }
        long address = NativeHeap.alloc(ALIGNMENT, charged);
        if (address == 0) {
            throw new GpuOutOfMemoryException("cuMemAlloc of " + bytes + " bytes on " + name()
                    + ": the host could not back it (the simulated capacity is larger than host memory)", null);
        }
        if (settings.poisonFreshMemory()) device(address, charged).fill((byte) 0xff);
        allocations.add(new AllocationMap.Allocation(address, bytes, charged));
        return address;
    }

    @Override
    public void free(long address) {
        requireOpen();
        refuseDuringCapture("free");
        allocations.remove(address);
        NativeHeap.free(address);
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src) {
        requireOpen();
        refuseDuringCapture("copyToDevice");
        long n = src.byteSize();
        allocations.require(dst, n, () -> "copyToDevice destination");
        if (n == 0) return;
        MemorySegment.copy(src, 0, device(dst, n), 0, n);
        bytesToDevice += n;
    }

    @Override
    public void copyToHost(MemorySegment dst, long src) {
        requireOpen();
        refuseDuringCapture("copyToHost");
        long n = dst.byteSize();
        allocations.require(src, n, () -> "copyToHost source");
        if (n == 0) return;
        MemorySegment.copy(device(src, n), 0, dst, 0, n);
        bytesToHost += n;
    }

    @Override
    public void copyDeviceToDevice(long dst, long src, long bytes) {
        requireOpen();
        refuseDuringCapture("copyDeviceToDevice");
        if (bytes < 0) throw new IllegalArgumentException("copyDeviceToDevice of " + bytes + " bytes");
        allocations.require(src, bytes, () -> "copyDeviceToDevice source");
        allocations.require(dst, bytes, () -> "copyDeviceToDevice destination");
        if (bytes == 0) return;
        // cuMemcpyDtoD leaves overlapping copies undefined; MemorySegment.copy would quietly make them work
        if (dst < src + bytes && src < dst + bytes) {
            throw new IllegalArgumentException("copyDeviceToDevice ranges overlap: 0x" + Long.toHexString(src) + " -> 0x"
                    + Long.toHexString(dst) + ", " + bytes + " bytes");
        }
        MemorySegment.copy(device(src, bytes), 0, device(dst, bytes), 0, bytes);
        bytesOnDevice += bytes;
    }

    @Override
    public void memsetD32(long dst, int value, long count) {
        requireOpen();
        if (count < 0) throw new IllegalArgumentException("memsetD32 of " + count + " words");
        if (dst % 4 != 0) throw new IllegalArgumentException("memsetD32 at 0x" + Long.toHexString(dst) + ": not 4-byte aligned (CUDA_ERROR_INVALID_VALUE)");
        long n = Math.multiplyExact(count, 4L);
        allocations.require(dst, n, () -> "memsetD32 destination");
        if (capture != null) {
            capture.add(new Memset(dst, value, count));
            return;
        }
        if (n > 0) fill32(device(dst, n), value);
    }

    /** Fills with a 32-bit pattern by doubling copies, since {@link MemorySegment#fill} only takes a byte. */
    private static void fill32(MemorySegment seg, int value) {
        byte b = (byte) value;
        if (value == (b & 0xff) * 0x01010101) {
            seg.fill(b);
            return;
        }
        seg.set(JAVA_INT, 0, value);
        for (long done = 4; done < seg.byteSize(); ) {
            long n = Math.min(done, seg.byteSize() - done);
            MemorySegment.copy(seg, 0, seg, done, n);
            done += n;
        }
    }

    @Override
    public GpuModule loadModule(String name, String source) {
        requireOpen();
        SimModuleSource tu = SimModuleSource.of(name, source);
        Path library = core().compile(tu);
        Arena arena = Arena.ofShared();
        try {
            Module m = new Module(name, tu.kernels(), SymbolLookup.libraryLookup(library, arena), arena);
            modules.add(m);
            return m;
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public void launch(GpuFunction f, Dim3 grid, Dim3 block, long[] args) {
        requireOpen();
        if (!(f instanceof Function fn) || fn.module().device() != this) {
            throw new IllegalArgumentException("not a function of this simulated device: " + f);
        }
        if (capture != null) {
            check(fn, grid, block, args);   // fail at the capture, where the stack shows the caller
            // The driver copies the argument values into the graph node at capture: so does this.
            capture.add(new Launch(fn, grid, block, args.clone()));
            return;
        }
        directLaunches++;
        run(fn, grid, block, args);
    }

    /** Checks a launch as {@link #run} does, without running it. */
    private void check(Function fn, Dim3 grid, Dim3 block, long[] args) {
        KernelSpec spec = fn.spec();
        fn.module().requireOpen(spec.name());
        checkDimensions(spec, grid, block);
        List<KernelSpec.Param> params = spec.params();
        if (args.length != params.size()) {
            throw new IllegalArgumentException(spec.name() + " takes " + params.size() + " arguments, got " + args.length);
        }
        for (int i = 0; i < args.length; i++) {
            KernelSpec.Param p = params.get(i);
            long raw = args[i];
            int index = i;
            if (p == KernelSpec.Param.PTR && raw != 0) {
                allocations.requirePointer(raw, () -> spec.name() + " argument " + index + " (PTR)");
            } else if ((p == KernelSpec.Param.INT || p == KernelSpec.Param.FLOAT) && raw >>> 32 != 0) {
                throw new IllegalArgumentException(spec.name() + " argument " + index + " is " + p
                        + " (4 bytes) but its raw bits 0x" + Long.toHexString(raw) + " use the upper 32");
            }
        }
    }

    private void run(Function fn, Dim3 grid, Dim3 block, long[] args) {
        check(fn, grid, block, args);
        KernelSpec spec = fn.spec();
        List<KernelSpec.Param> params = spec.params();
        if (arguments.capacity() < params.size()) arguments = new LaunchArguments(buffers, params.size());
        for (int i = 0; i < args.length; i++) arguments.put(i, params.get(i).bytes, args[i]);
        int rc;
        try {
            rc = (int) fn.handle().invokeExact(grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(),
                    arguments.params(), arguments.sizes(), args.length);
        } catch (Throwable t) {
            throw new IllegalStateException(spec.name() + ": the emulator call failed", t);
        }
        if (rc != 0) {
            throw new IllegalStateException(spec.name() + " failed on " + name() + " (grid " + dims(grid) + ", block "
                    + dims(block) + ", rc " + rc + "): " + core.lastError());
        }
        launches.merge(spec.name(), 1L, Long::sum);
    }

    private static void checkDimensions(KernelSpec spec, Dim3 grid, Dim3 block) {
        if (block.count() > MAX_BLOCK_THREADS || block.z() > MAX_BLOCK_Z || grid.y() > MAX_GRID_YZ || grid.z() > MAX_GRID_YZ) {
            throw new IllegalArgumentException(spec.name() + ": grid " + dims(grid) + " / block " + dims(block)
                    + " exceed the driver's limits (CUDA_ERROR_INVALID_VALUE)");
        }
        if (block.count() > spec.maxBlockThreads()) {
            throw new IllegalArgumentException(spec.name() + ": block " + dims(block) + " has more threads than its spec's "
                    + spec.maxBlockThreads() + " (the PTX resource check assumed at most that many)");
        }
    }

    private static String dims(Dim3 d) {
        return d.x() + "x" + d.y() + "x" + d.z();
    }

    @Override
    public void beginCapture() {
        requireOpen();
        if (capture != null) throw new IllegalStateException("beginCapture: a graph capture is already in progress");
        capture = new ArrayList<>();
    }

    @Override
    public GpuGraph endCapture() {
        requireOpen();
        if (capture == null) throw new IllegalStateException("endCapture without beginCapture");
        Graph g = new Graph(List.copyOf(capture));
        capture = null;
        graphs.add(g);
        return g;
    }

    /**
     * Runs the recorded launches and memsets in order, each checked again as a direct call would be (an allocation
     * freed since the capture fails here, naming the kernel and argument).
     */
    @Override
    public void launchGraph(GpuGraph graph) {
        requireOpen();
        if (!(graph instanceof Graph g) || g.device() != this) {
            throw new IllegalArgumentException("not a graph of this simulated device: " + graph);
        }
        if (g.closed) throw new IllegalStateException("launchGraph: the graph is closed");
        if (capture != null) throw new IllegalStateException("launchGraph during a graph capture (graphs are not nested here)");
        graphLaunches++;
        for (Op op : g.ops) {
            switch (op) {
                case Launch l -> run(l.fn(), l.grid(), l.block(), l.args());
                case Memset m -> memsetD32(m.dst(), m.value(), m.count());
            }
        }
    }

    private void refuseDuringCapture(String call) {
        if (capture != null) {
            throw new IllegalStateException(call + " during a graph capture: a graph holds kernel launches and memsets only"
                    + " (copy before beginCapture or after endCapture)");
        }
    }

    /** No-op: every launch and copy has finished when its call returns. */
    @Override
    public void synchronize() {
        requireOpen();
    }

    /**
     * Unloads the modules still open and frees the allocations still live; their number stays readable in
     * {@link #liveAllocations()} so a test can assert the runtime freed everything itself.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        capture = null;
        leakedGraphsAtClose = graphs.size();
        for (Graph g : List.copyOf(graphs)) g.close();
        RuntimeException first = null;
        for (Module m : List.copyOf(modules)) {
            try {
                m.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        List<AllocationMap.Allocation> left = allocations.snapshot();
        leakedAtClose = left.size();
        for (AllocationMap.Allocation a : left) {
            allocations.remove(a.address());
            NativeHeap.free(a.address());
        }
        buffers.close();
        if (first != null) throw first;
    }

    // ---- counters for tests ----

    /** Live allocations now; after {@link #close()}, how many were still live (leaked) when it was called. */
    public int liveAllocations() {
        return closed ? leakedAtClose : allocations.size();
    }

    /** Bytes charged against capacity now (requests rounded up to {@link #ALIGNMENT}). */
    public long allocatedBytes() {
        return allocations.charged();
    }

    /** The most bytes ever allocated at once (since the last {@link #resetCounters()}). */
    public long peakAllocatedBytes() {
        return allocations.peak();
    }

    public long bytesCopiedToDevice() {
        return bytesToDevice;
    }

    public long bytesCopiedToHost() {
        return bytesToHost;
    }

    /** Bytes moved by {@link #copyDeviceToDevice}. */
    public long bytesCopiedOnDevice() {
        return bytesOnDevice;
    }

    /** Successful launches by kernel name, sorted by name. */
    public Map<String, Long> launchCounts() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(launches));
    }

    public long launches(String kernel) {
        return launches.getOrDefault(kernel, 0L);
    }

    /** Modules loaded and not yet closed. */
    public int openModules() {
        return modules.size();
    }

    /** {@link #launch} calls that ran at once (not recorded into a graph). */
    public long directLaunches() {
        return directLaunches;
    }

    /** {@link #launchGraph} calls. */
    public long graphLaunches() {
        return graphLaunches;
    }

    /** Graphs ended and not yet closed; after {@link #close()}, how many were still open (leaked) when it was called. */
    public int liveGraphs() {
        return closed ? leakedGraphsAtClose : graphs.size();
    }

    /** Whether a graph capture is in progress. */
    public boolean capturing() {
        return capture != null;
    }

    /** Zeroes the launch and copy counters and restarts the peak from what is allocated now. */
    public void resetCounters() {
        directLaunches = 0;
        graphLaunches = 0;
        launches.clear();
        bytesToDevice = 0;
        bytesToHost = 0;
        bytesOnDevice = 0;
        allocations.resetPeak();
    }

    private SimCore core() {
        if (core == null) {
            core = SimCore.load();
            core.setWorkers(settings.workers());
        }
        return core;
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("the simulated device is closed");
    }

    private static MemorySegment device(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    /** One compiled {@code .cu} file, open until {@link #close()} unloads its library. */
    private final class Module implements GpuModule {
        private final String source;
        private final List<String> kernels;
        private final SymbolLookup symbols;
        private final Arena arena;
        private boolean unloaded;

        Module(String source, List<String> kernels, SymbolLookup symbols, Arena arena) {
            this.source = source;
            this.kernels = List.copyOf(kernels);
            this.symbols = symbols;
            this.arena = arena;
        }

        SimulatedDevice device() {
            return SimulatedDevice.this;
        }

        @Override
        public GpuFunction function(KernelSpec spec) {
            requireOpen(spec.name());
            MemorySegment entry = symbols.find(SimModuleSource.launchSymbol(spec.name())).orElseThrow(() ->
                    new IllegalStateException(source + " has no kernel " + spec.name() + " (CUDA_ERROR_NOT_FOUND; it has "
                            + kernels + ")"));
            MethodHandle handle = Linker.nativeLinker().downcallHandle(entry, LAUNCH);
            return new Function(spec, handle, this);
        }

        void requireOpen(String kernel) {
            SimulatedDevice.this.requireOpen();
            // the library is unmapped after close: calling into it would crash the JVM, not fail a test
            if (unloaded) throw new IllegalStateException(kernel + ": module " + source + " is closed");
        }

        @Override
        public void close() {
            if (unloaded) return;
            unloaded = true;
            modules.remove(this);
            arena.close();
        }

        @Override
        public String toString() {
            return "simulated module " + source + " " + kernels;
        }
    }

    private record Function(KernelSpec spec, MethodHandle handle, Module module) implements GpuFunction {}

    /** One recorded graph node. */
    private sealed interface Op permits Launch, Memset {}

    private record Launch(Function fn, Dim3 grid, Dim3 block, long[] args) implements Op {}

    private record Memset(long dst, int value, long count) implements Op {}

    private final class Graph implements GpuGraph {
        private final List<Op> ops;
        private boolean closed;

        Graph(List<Op> ops) {
            this.ops = ops;
        }

        SimulatedDevice device() {
            return SimulatedDevice.this;
        }

        @Override
        public int nodes() {
            return ops.size();
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            graphs.remove(this);
        }

        @Override
        public String toString() {
            return "simulated graph of " + ops.size() + " nodes" + (closed ? " (closed)" : "");
        }
    }
}
