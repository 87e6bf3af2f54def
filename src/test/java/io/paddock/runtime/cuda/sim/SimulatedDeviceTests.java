package io.paddock.runtime.cuda.sim;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paddock.runtime.cuda.GpuDevice.Dim3;
import io.paddock.runtime.cuda.GpuDevice.GpuFunction;
import io.paddock.runtime.cuda.GpuDevice.GpuModule;
import io.paddock.runtime.cuda.GpuOutOfMemoryException;
import io.paddock.runtime.cuda.KernelSources;
import io.paddock.runtime.cuda.KernelSpec;
import io.paddock.runtime.cuda.KernelSpec.Param;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SimulatedDeviceTests {
    private static final long MIB = 1L << 20;

    private SimulatedDevice dev;

    @BeforeAll
    static void buildModulesInParallel() {
        if (SimulatedDevice.unavailableReason().isEmpty()) SimulatedDevice.prebuild(KernelSources.all());
    }

    @BeforeEach
    void open() {
        dev = new SimulatedDevice(SimSettings.small());
    }

    @AfterEach
    void close() {
        dev.close();
    }

    /** Kernel tests need g++ and the emulator; memory tests do not. */
    private static void requireSimulator() {
        Optional<String> why = SimulatedDevice.unavailableReason();
        assumeTrue(why.isEmpty(), () -> "skipped: simulated CUDA device unavailable: " + why.orElse(""));
    }

    // ---- identity ----

    @Test
    void reportsTheIdentityOfItsSettings() {
        try (SimulatedDevice h100 = new SimulatedDevice(SimSettings.h100_80gb())) {
            assertThat(h100.name()).isEqualTo("Simulated CUDA device (sm_90, 132 SMs, 80 GiB)");
            assertThat(h100.computeCapability()).isEqualTo(90);
            assertThat(h100.multiprocessorCount()).isEqualTo(132);
            assertThat(h100.memInfo().totalBytes()).isEqualTo(80L << 30);
            assertThat(h100.memInfo().freeBytes()).isEqualTo(80L << 30);
        }
        assertThat(SimSettings.a100_40gb().multiprocessorCount()).isEqualTo(108);
        assertThat(SimSettings.rtx_24gb().totalBytes()).isEqualTo(24L << 30);
        assertThat(dev.name()).isEqualTo("Simulated CUDA device (sm_86, 8 SMs, 256 MiB)");
        SimSettings tiny = SimSettings.small().withTotalBytes(MIB).withMultiprocessorCount(2).withName("tiny");
        assertThat(List.of(tiny.name(), tiny.totalBytes(), tiny.multiprocessorCount())).containsExactly("tiny", MIB, 2);
        assertThatThrownBy(() -> SimSettings.small().withWorkers(0)).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- memory ----

    @Test
    void allocationsAreAlignedAndChargedInGranules() {
        long total = dev.memInfo().totalBytes();
        long a = dev.alloc(1);
        long b = dev.alloc(300);
        long c = dev.alloc(0); // JCudaDevice hands out an address for zero bytes too
        assertThat(List.of(a % 256, b % 256, c % 256)).containsOnly(0L);
        assertThat(dev.memInfo().freeBytes()).isEqualTo(total - 256 - 512 - 256);
        assertThat(dev.allocatedBytes()).isEqualTo(1024);
        assertThat(dev.liveAllocations()).isEqualTo(3);
        dev.free(b);
        dev.free(a);
        dev.free(c);
        assertThat(dev.memInfo().freeBytes()).isEqualTo(total);
        assertThat(dev.peakAllocatedBytes()).isEqualTo(1024);
        assertThat(dev.liveAllocations()).isZero();
    }

    @Test
    void allocationBeyondCapacityIsOutOfMemory() {
        try (SimulatedDevice d = new SimulatedDevice(SimSettings.small().withTotalBytes(MIB))) {
            long big = d.alloc(MIB - 256);
            long last = d.alloc(256);
            assertThatThrownBy(() -> d.alloc(1)).isInstanceOf(GpuOutOfMemoryException.class)
                    .hasMessageContaining("cuMemAlloc of 1 bytes")
                    .hasMessageContaining("0 of " + MIB + " bytes free in 2 live allocations");
            d.free(last);
            assertThatThrownBy(() -> d.alloc(257)).isInstanceOf(GpuOutOfMemoryException.class)
                    .hasMessageContaining("256 of " + MIB + " bytes free");
            d.free(d.alloc(256));
            d.free(big);
            assertThat(d.memInfo().freeBytes()).isEqualTo(MIB);
            assertThat(d.peakAllocatedBytes()).isEqualTo(MIB);
        }
    }

    @Test
    void theHostMemoryLimitStopsAnAllocationBeforeTheHostRunsOut() {
        try (SimulatedDevice d = new SimulatedDevice(SimSettings.h100_80gb().withHostMemoryLimit(MIB))) {
            long a = d.alloc(MIB / 2);
            assertThatThrownBy(() -> d.alloc(MIB)).isInstanceOf(GpuOutOfMemoryException.class)
                    .hasMessageContaining("backs at most " + MIB + " bytes");
            assertThat(d.memInfo().freeBytes()).isEqualTo((80L << 30) - MIB / 2); // the device still claims its size
            d.free(a);
        }
    }

    @Test
    void freeOfAnAddressNotAllocatedFails() {
        long a = dev.alloc(1024);
        assertThatThrownBy(() -> dev.free(0)).isInstanceOf(IllegalStateException.class).hasMessageContaining("no live allocation");
        assertThatThrownBy(() -> dev.free(a + 256)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not its start");
        dev.free(a);
        assertThatThrownBy(() -> dev.free(a)).isInstanceOf(IllegalStateException.class).hasMessageContaining("double free");
        assertThatThrownBy(() -> dev.alloc(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void copiesRoundTripThroughHeapAndNativeSegments() {
        float[] src = new float[1000];
        for (int i = 0; i < src.length; i++) src[i] = i * 0.5f - 7;
        long d = dev.alloc(4000);
        dev.copyToDevice(d, MemorySegment.ofArray(src));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(4000);
            dev.copyToHost(host, d);
            assertThat(host.toArray(JAVA_FLOAT)).containsExactly(src);
            // a slice in the middle of the allocation, both ways
            dev.copyToDevice(d + 400, MemorySegment.ofArray(new float[] {42, 43}));
            float[] back = new float[4];
            dev.copyToHost(MemorySegment.ofArray(back), d + 396);
            assertThat(back).containsExactly(src[99], 42, 43, src[102]);
        }
        assertThat(dev.bytesCopiedToDevice()).isEqualTo(4000 + 8);
        assertThat(dev.bytesCopiedToHost()).isEqualTo(4000 + 16);
        dev.free(d);
    }

    @Test
    void copiesOutsideEveryAllocationFailAtOnce() {
        long d = dev.alloc(64);
        assertThatThrownBy(() -> dev.copyToDevice(d, MemorySegment.ofArray(new float[17])))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("copyToDevice destination")
                .hasMessageContaining("0x" + Long.toHexString(d) + " + 68 bytes")
                .hasMessageContaining("overruns");
        assertThatThrownBy(() -> dev.copyToHost(MemorySegment.ofArray(new int[2]), d + 60))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("copyToHost source");
        dev.free(d);
        assertThatThrownBy(() -> dev.copyToHost(MemorySegment.ofArray(new int[1]), d))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("outside every live device allocation");
        assertThat(dev.bytesCopiedToDevice() + dev.bytesCopiedToHost()).isZero();
    }

    @Test
    void deviceToDeviceCopiesCheckBothRangesAndRefuseOverlap() {
        int[] src = new int[64];
        for (int i = 0; i < src.length; i++) src[i] = i * 3;
        long a = dev.alloc(256), b = dev.alloc(256);
        dev.copyToDevice(a, MemorySegment.ofArray(src));
        dev.copyDeviceToDevice(b + 16, a + 32, 128);
        int[] back = new int[64];
        dev.copyToHost(MemorySegment.ofArray(back), b);
        for (int i = 0; i < 32; i++) assertThat(back[4 + i]).isEqualTo(src[8 + i]);
        assertThat(back[3]).isEqualTo(-1); // untouched (poisoned) on either side
        assertThat(back[36]).isEqualTo(-1);
        assertThat(dev.bytesCopiedOnDevice()).isEqualTo(128);
        dev.copyDeviceToDevice(a + 128, a, 128); // adjacent halves of one allocation: no overlap
        assertThatThrownBy(() -> dev.copyDeviceToDevice(a + 64, a, 128)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("overlap");
        assertThatThrownBy(() -> dev.copyDeviceToDevice(b + 200, a, 128)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("copyDeviceToDevice destination");
        assertThatThrownBy(() -> dev.copyDeviceToDevice(b, a + 200, 128)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("copyDeviceToDevice source");
        dev.free(a);
        dev.free(b);
    }

    @Test
    void freshMemoryIsPoisoned() {
        long d = dev.alloc(16);
        int[] back = new int[4];
        dev.copyToHost(MemorySegment.ofArray(back), d);
        assertThat(back).containsOnly(-1);
        dev.free(d);
    }

    @Test
    void memsetWritesWordsInsideItsRangeOnly() {
        long d = dev.alloc(40 * 4);
        dev.memsetD32(d, 0, 40);
        dev.memsetD32(d + 4, Float.floatToRawIntBits(1.5f), 37); // a pattern no byte fill can make
        float[] back = new float[40];
        dev.copyToHost(MemorySegment.ofArray(back), d);
        assertThat(back[0]).isZero();
        for (int i = 1; i <= 37; i++) assertThat(back[i]).as("word %d", i).isEqualTo(1.5f);
        assertThat(new float[] {back[38], back[39]}).containsOnly(0f);
        dev.memsetD32(d, 0x7f7f7f7f, 1);
        int[] first = new int[1];
        dev.copyToHost(MemorySegment.ofArray(first), d);
        assertThat(first[0]).isEqualTo(0x7f7f7f7f);
        assertThatThrownBy(() -> dev.memsetD32(d + 2, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("4-byte aligned");
        assertThatThrownBy(() -> dev.memsetD32(d + 4, 0, 40)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("memsetD32 destination");
        dev.free(d);
    }

    @Test
    void closeFreesWhatIsLeftAndCountsIt() {
        SimulatedDevice d = new SimulatedDevice();
        long a = d.alloc(100);
        d.alloc(200);
        d.alloc(300);
        d.free(a);
        d.close();
        assertThat(d.liveAllocations()).isEqualTo(2);
        d.close(); // idempotent
        assertThatThrownBy(() -> d.alloc(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(d::memInfo).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void pointersMayEndAtTheirAllocationButNotBeyond() {
        AllocationMap m = new AllocationMap();
        m.add(new AllocationMap.Allocation(0x1000, 100, 256));
        m.add(new AllocationMap.Allocation(0x2000, 0, 256));
        assertThat(m.requirePointer(0x1000 + 100, () -> "p").address()).isEqualTo(0x1000);
        assertThat(m.requirePointer(0x2000, () -> "p").address()).isEqualTo(0x2000);
        assertThatThrownBy(() -> m.requirePointer(0x1000 + 101, () -> "k argument 3 (PTR)"))
                .hasMessageContaining("k argument 3 (PTR): 0x1065 is outside every live device allocation");
        assertThatThrownBy(() -> m.requirePointer(0xfff, () -> "p")).hasMessageContaining("no live allocation at or below");
        assertThatThrownBy(() -> m.add(new AllocationMap.Allocation(0x1010, 8, 256))).hasMessageContaining("overlaps");
        assertThat(m.containing(0x1063)).isNotNull();
        assertThat(m.containing(0x1064)).isNull();
    }

    // ---- launch plumbing without the compiler ----

    @Test
    void argumentsArePackedAsTheDriverReceivesThem() {
        try (Arena arena = Arena.ofConfined()) {
            LaunchArguments a = new LaunchArguments(arena, 3);
            a.put(0, 8, 0x1122334455667788L);
            a.put(1, 4, 0xdeadbeefL);
            a.put(2, 4, Float.floatToRawIntBits(-2.5f) & 0xffff_ffffL);
            MemorySegment slot1 = a.params().getAtIndex(ADDRESS, 1).reinterpret(8);
            assertThat(slot1.address() % 8).isZero();
            assertThat(slot1.get(JAVA_INT, 0)).isEqualTo(0xdeadbeef);
            assertThat(slot1.get(JAVA_INT, 4)).as("the rest of a 4-byte slot").isZero();
            assertThat(a.params().getAtIndex(ADDRESS, 0).reinterpret(8).get(JAVA_LONG, 0)).isEqualTo(0x1122334455667788L);
            assertThat(a.params().getAtIndex(ADDRESS, 2).reinterpret(4).get(JAVA_FLOAT, 0)).isEqualTo(-2.5f);
            assertThat(a.sizes().reinterpret(12).toArray(JAVA_INT)).containsExactly(8, 4, 4);
        }
    }

    @Test
    void moduleTextExportsEveryKernelAfterTheUnchangedSource() {
        String src = KernelSources.resource(KernelSources.LAYER_OPS);
        SimModuleSource tu = SimModuleSource.of(KernelSources.LAYER_OPS, src);
        assertThat(tu.kernels()).containsExactly("rmsnorm_f32", "add_rmsnorm_f32", "rope_rotate_half_f32", "swiglu_f32",
                "add_inplace_f32", "embedding_rows", "argmax_rows");
        assertThat(tu.text()).startsWith("#include \"cuda_sim.h\"\n#line 1 \"layer_ops.cu\"\n" + src)
                .endsWith("PADDOCK_SIM_EXPORT(embedding_rows)\nPADDOCK_SIM_EXPORT(argmax_rows)\n");
        assertThatThrownBy(() -> SimModuleSource.of("a\"b.cu", src)).isInstanceOf(IllegalArgumentException.class);
        // every kernel the runtime launches is found in the source its spec names
        Map<String, String> sources = KernelSources.all();
        for (KernelSpec k : RuntimeKernelSpecs.all()) {
            assertThat(SimModuleSource.kernelNames(sources.get(k.source()))).as(k.name()).contains(k.name());
        }
    }

    // ---- kernels on the emulator ----

    @Test
    void everySourceLoadsAndExportsTheKernelsTheRuntimeLaunches() {
        requireSimulator();
        Map<String, GpuModule> modules = loadAll();
        for (KernelSpec k : RuntimeKernelSpecs.all()) {
            assertThat(modules.get(k.source()).function(k).spec()).isSameAs(k);
        }
        assertThat(dev.openModules()).isEqualTo(KernelSources.NAMES.size());
        modules.values().forEach(GpuModule::close);
        assertThat(dev.openModules()).isZero();
    }

    @Test
    void addInplace() {
        requireSimulator();
        KernelSpec spec = RuntimeKernelSpecs.named("add_inplace_f32");
        GpuFunction add = function(spec);
        int n = 1000; // not a multiple of the block: the tail guard must hold
        float[] a = new float[n], b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
            b[i] = 2 * i + 0.25f;
        }
        long da = upload(a), db = upload(b);
        dev.launch(add, Dim3.of(Math.ceilDiv(n, 256), 1), Dim3.of(256, 1), spec.pack(da, db, (long) n));
        float[] out = download(da, n);
        for (int i = 0; i < n; i++) assertThat(out[i]).as("a[%d]", i).isEqualTo(3 * i + 0.25f);
        assertThat(download(db, n)).containsExactly(b);
        assertThat(dev.launches("add_inplace_f32")).isEqualTo(1);
        assertThat(dev.launchCounts()).containsExactly(Map.entry("add_inplace_f32", 1L));
        dev.free(da);
        dev.free(db);
    }

    @Test
    void embeddingRowsWidensEachDtype() {
        requireSimulator();
        KernelSpec spec = RuntimeKernelSpecs.named("embedding_rows");
        GpuFunction emb = function(spec);
        int vocab = 5, hidden = 300, rows = 3;
        int[] tokens = {3, 0, 4};
        long dTokens = upload(tokens);
        long out = dev.alloc(4L * rows * hidden);
        float[] table = new float[vocab * hidden];
        for (int i = 0; i < table.length; i++) table[i] = (i % 97) * 0.25f - 12; // exact in fp16 and bf16
        short[] f16 = new short[table.length], bf16 = new short[table.length];
        for (int i = 0; i < table.length; i++) {
            f16[i] = Float.floatToFloat16(table[i]);
            bf16[i] = (short) (Float.floatToRawIntBits(table[i]) >>> 16);
        }
        List<MemorySegment> tables = List.of(MemorySegment.ofArray(table), MemorySegment.ofArray(f16), MemorySegment.ofArray(bf16));
        for (int dtype = 0; dtype < 3; dtype++) {
            long dTable = upload(tables.get(dtype));
            dev.launch(emb, Dim3.of(rows, Math.ceilDiv(hidden, 256)), Dim3.of(256, 1),
                    spec.pack(out, dTable, dTokens, hidden, dtype));
            float[] got = download(out, rows * hidden);
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < hidden; i++) {
                    assertThat(got[r * hidden + i]).as("dtype %d row %d col %d", dtype, r, i)
                            .isEqualTo(table[tokens[r] * hidden + i]);
                }
            }
            dev.free(dTable);
        }
        dev.free(out);
        dev.free(dTokens);
    }

    @Test
    void argmaxRowsTakesTheLowestIndexOfTheLargestAndSkipsNaN() {
        requireSimulator();
        KernelSpec spec = RuntimeKernelSpecs.named("argmax_rows");
        GpuFunction argmax = function(spec);
        int n = 1000;
        float[] x = new float[4 * n];
        Random rnd = new Random(7);
        for (int i = 0; i < x.length; i++) x[i] = rnd.nextFloat() * 10 - 5;
        x[777] = 9;                                       // row 0: a single maximum
        x[n + 10] = 8;                                    // row 1: tied maxima, the lower index wins
        x[n + 900] = 8;
        x[2 * n + 5] = Float.NaN;                         // row 2: NaN is skipped, not taken
        x[2 * n + 999] = 7;
        for (int i = 0; i < n; i++) x[3 * n + i] = Float.NaN; // row 3: nothing comparable -> 0
        long dx = upload(x), dOut = dev.alloc(4 * 4);
        dev.launch(argmax, Dim3.of(4, 1), Dim3.of(256, 1), spec.pack(dx, dOut, n));
        int[] got = new int[4];
        dev.copyToHost(MemorySegment.ofArray(got), dOut);
        assertThat(got).containsExactly(777, 10, 999, 0);
        dev.free(dx);
        dev.free(dOut);
    }

    @Test
    void rmsnormReducesAcrossTheWholeBlock() {
        requireSimulator();
        KernelSpec spec = RuntimeKernelSpecs.named("rmsnorm_f32");
        GpuFunction rms = function(spec);
        int rows = 2, n = 700; // several strides of the 256-thread block, and a partial last warp of work
        float eps = 1e-5f;
        float[] x = new float[rows * n], w = new float[n];
        Random rnd = new Random(3);
        for (int i = 0; i < x.length; i++) x[i] = rnd.nextFloat() * 4 - 2;
        for (int i = 0; i < n; i++) w[i] = 0.5f + rnd.nextFloat();
        long dx = upload(x), dw = upload(w), dOut = dev.alloc(4L * rows * n);
        dev.launch(rms, Dim3.of(rows, 1), Dim3.of(256, 1), spec.pack(dOut, dx, dw, n, eps));
        float[] got = download(dOut, rows * n);
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (double) x[r * n + i] * x[r * n + i];
            double scale = 1 / Math.sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) {
                assertThat((double) got[r * n + i]).as("row %d col %d", r, i)
                        .isCloseTo(x[r * n + i] * scale * w[i], offset(1e-5));
            }
        }
        dev.free(dx);
        dev.free(dw);
        dev.free(dOut);
    }

    @Test
    void gptqGatherAppliesThePermutationPerRow() {
        requireSimulator();
        KernelSpec spec = RuntimeKernelSpecs.named("gptq_gather_x");
        GpuFunction gather = function(spec);
        int batch = 2, in = 300;
        float[] x = new float[batch * in];
        for (int i = 0; i < x.length; i++) x[i] = i;
        int[] perm = new int[in];
        for (int p = 0; p < in; p++) perm[p] = (p * 7 + 3) % in; // a bijection, 7 and 300 being coprime
        long dx = upload(x), dPerm = upload(perm), dXp = dev.alloc(4L * batch * in);
        dev.launch(gather, Dim3.of(Math.ceilDiv(in, 256), batch), Dim3.of(256, 1), spec.pack(dx, dPerm, dXp, batch, in));
        float[] got = download(dXp, batch * in);
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < in; p++) assertThat(got[b * in + p]).isEqualTo(x[b * in + perm[p]]);
        }
        dev.free(dx);
        dev.free(dPerm);
        dev.free(dXp);
    }

    @Test
    void anArgumentOfTheWrongSizeIsRejectedByTheEmulator() {
        requireSimulator();
        // add_inplace_f32 takes `long long n`: a spec that packs it as a 4-byte INT is a host bug
        KernelSpec wrong = new KernelSpec(KernelSources.LAYER_OPS, "add_inplace_f32", List.of(Param.PTR, Param.PTR, Param.INT), 256);
        GpuFunction f = function(wrong);
        long a = dev.alloc(1024);
        assertThatThrownBy(() -> dev.launch(f, Dim3.of(1, 1), Dim3.of(256, 1), wrong.pack(a, a, 256)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("add_inplace_f32 failed on")
                .hasMessageContaining("argument 2");
        KernelSpec short_ = new KernelSpec(KernelSources.LAYER_OPS, "add_inplace_f32", List.of(Param.PTR, Param.PTR), 256);
        GpuFunction g = function(short_);
        assertThatThrownBy(() -> dev.launch(g, Dim3.of(1, 1), Dim3.of(256, 1), short_.pack(a, a)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("add_inplace_f32 failed on")
                .hasMessageContaining("3 arguments");
        assertThat(dev.launches("add_inplace_f32")).isZero();
        dev.free(a);
    }

    @Test
    void anUnknownKernelIsNotFound() {
        requireSimulator();
        GpuModule m = dev.loadModule(KernelSources.LAYER_OPS, KernelSources.resource(KernelSources.LAYER_OPS));
        KernelSpec missing = new KernelSpec(KernelSources.LAYER_OPS, "no_such_kernel", List.of(Param.PTR), 32);
        assertThatThrownBy(() -> m.function(missing)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no_such_kernel")
                .hasMessageContaining("CUDA_ERROR_NOT_FOUND");
        // a kernel of another file is not in this module either
        assertThatThrownBy(() -> m.function(RuntimeKernelSpecs.named("gptq_gather_x")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("CUDA_ERROR_NOT_FOUND");
    }

    @Test
    void aPointerArgumentOutsideEveryAllocationIsRejectedBeforeTheKernelRuns() {
        requireSimulator();
        KernelSpec spec = RuntimeKernelSpecs.named("add_inplace_f32");
        GpuFunction add = function(spec);
        long a = upload(new float[256]);
        long stale = dev.alloc(1024);
        dev.free(stale);
        assertThatThrownBy(() -> dev.launch(add, Dim3.of(1, 1), Dim3.of(256, 1), spec.pack(a, stale, 256L)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("add_inplace_f32 argument 1 (PTR): 0x" + Long.toHexString(stale));
        assertThat(dev.launches("add_inplace_f32")).isZero();
        dev.free(a);
    }

    @Test
    void launchesOutsideTheSpecOrTheModuleLifetimeAreRejected() {
        requireSimulator();
        KernelSpec spec = RuntimeKernelSpecs.named("add_inplace_f32");
        GpuModule m = dev.loadModule(spec.source(), KernelSources.resource(spec.source()));
        GpuFunction add = m.function(spec);
        long a = upload(new float[512]);
        assertThatThrownBy(() -> dev.launch(add, Dim3.of(1, 1), Dim3.of(512, 1), spec.pack(a, a, 512L)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more threads than its spec");
        assertThatThrownBy(() -> dev.launch(add, Dim3.of(1, 1), Dim3.of(256, 1), new long[] {a, a}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("takes 3 arguments");
        m.close();
        assertThatThrownBy(() -> dev.launch(add, Dim3.of(1, 1), Dim3.of(256, 1), spec.pack(a, a, 256L)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        dev.free(a);
    }

    @Test
    void modulesLeftOpenAreUnloadedByClose() {
        requireSimulator();
        SimulatedDevice d = new SimulatedDevice();
        d.loadModule(KernelSources.LAYER_OPS, KernelSources.resource(KernelSources.LAYER_OPS));
        assertThat(d.openModules()).isEqualTo(1);
        d.close();
        assertThat(d.openModules()).isZero();
        assertThat(d.liveAllocations()).isZero();
    }

    // ---- helpers ----

    private Map<String, GpuModule> loadAll() {
        Map<String, GpuModule> m = new LinkedHashMap<>();
        KernelSources.all().forEach((name, src) -> m.put(name, dev.loadModule(name, src)));
        return m;
    }

    private GpuFunction function(KernelSpec spec) {
        // the device unloads it at close
        return dev.loadModule(spec.source(), KernelSources.resource(spec.source())).function(spec);
    }

    private long upload(float[] a) {
        return upload(MemorySegment.ofArray(a));
    }

    private long upload(int[] a) {
        return upload(MemorySegment.ofArray(a));
    }

    private long upload(MemorySegment s) {
        long d = dev.alloc(s.byteSize());
        dev.copyToDevice(d, s);
        return d;
    }

    private float[] download(long d, int n) {
        float[] out = new float[n];
        dev.copyToHost(MemorySegment.ofArray(out), d);
        return out;
    }
}
