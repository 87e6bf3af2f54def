package io.paddock.runtime.cuda.sim;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;

/**
 * What a {@link SimulatedDevice} claims to be and how it behaves. The identity matters to the runtime: it sizes the
 * KV cache from {@code totalBytes} and picks split-K from {@code multiprocessorCount}, so a test can put the runtime
 * on an "H100" or a "24 GiB card" without one.
 *
 * @param name               what {@code name()} reports
 * @param computeCapability  major·10 + minor, as {@code GpuDevice.computeCapability()}
 * @param multiprocessorCount SMs reported (nothing runs on them: the emulator uses {@code workers} CPU threads)
 * @param totalBytes         device memory capacity; allocations beyond it fail as on a full device
 * @param workers            CPU threads the emulator runs blocks on (process-wide: the native core has one pool)
 * @param poisonFreshMemory  fill new allocations with 0xFF bytes (NaN floats, -1 ints), because cuMemAlloc does not
 *                           zero memory either and a kernel reading memory nobody wrote must not pass by luck
 * @param hostMemoryLimit    the most live device memory backed by host memory; beyond it an allocation fails as out
 *                           of memory, saying so, instead of the host's OOM killer ending the test JVM (an "80 GiB"
 *                           device whose free memory a planner fills with KV blocks would get there)
 */
public record SimSettings(String name, int computeCapability, int multiprocessorCount, long totalBytes, int workers,
                          boolean poisonFreshMemory, long hostMemoryLimit) {

    private static final long GIB = 1L << 30;

    public SimSettings {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("name is blank");
        if (computeCapability < 10) throw new IllegalArgumentException("computeCapability " + computeCapability);
        if (multiprocessorCount < 1) throw new IllegalArgumentException("multiprocessorCount " + multiprocessorCount);
        if (totalBytes < 1) throw new IllegalArgumentException("totalBytes " + totalBytes);
        if (workers < 1) throw new IllegalArgumentException("workers " + workers);
        if (hostMemoryLimit < 1) throw new IllegalArgumentException("hostMemoryLimit " + hostMemoryLimit);
    }

    /** H100 SXM: sm_90, 132 SMs, 80 GiB. */
    public static SimSettings h100_80gb() {
        return of("sm_90", 90, 132, 80 * GIB);
    }

    /** A100: sm_80, 108 SMs, 40 GiB. */
    public static SimSettings a100_40gb() {
        return of("sm_80", 80, 108, 40 * GIB);
    }

    /** A 24 GiB consumer card (RTX 4090 class): sm_89, 128 SMs. */
    public static SimSettings rtx_24gb() {
        return of("sm_89", 89, 128, 24 * GIB);
    }

    /** The unit-test default: a small sm_86 part with 256 MiB, so capacity and OOM paths are cheap to reach. */
    public static SimSettings small() {
        return of("sm_86", 86, 8, 256L << 20);
    }

    private static SimSettings of(String arch, int cc, int sms, long bytes) {
        return new SimSettings(describe(arch, sms, bytes), cc, sms, bytes, defaultWorkers(), true, defaultHostMemoryLimit());
    }

    private static String describe(String arch, int sms, long bytes) {
        String size = bytes % GIB == 0 ? bytes / GIB + " GiB" : (bytes >> 20) + " MiB";
        return "Simulated CUDA device (" + arch + ", " + sms + " SMs, " + size + ")";
    }

    /** Enough threads to exercise real concurrency between blocks, few enough not to swamp a CI runner. */
    static int defaultWorkers() {
        return Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
    }

    /** Half the host's physical memory: room for the JVM heap and the rest of the test run. */
    static long defaultHostMemoryLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os) {
            return Math.max(1, os.getTotalMemorySize() / 2);
        }
        return 4 * GIB;
    }

    // The withers keep the name as it is; a test that changes the identity and cares about it calls withName too.

    public SimSettings withName(String n) {
        return new SimSettings(n, computeCapability, multiprocessorCount, totalBytes, workers, poisonFreshMemory, hostMemoryLimit);
    }

    public SimSettings withTotalBytes(long bytes) {
        return new SimSettings(name, computeCapability, multiprocessorCount, bytes, workers, poisonFreshMemory, hostMemoryLimit);
    }

    public SimSettings withMultiprocessorCount(int sms) {
        return new SimSettings(name, computeCapability, sms, totalBytes, workers, poisonFreshMemory, hostMemoryLimit);
    }

    public SimSettings withWorkers(int n) {
        return new SimSettings(name, computeCapability, multiprocessorCount, totalBytes, n, poisonFreshMemory, hostMemoryLimit);
    }

    public SimSettings withHostMemoryLimit(long bytes) {
        return new SimSettings(name, computeCapability, multiprocessorCount, totalBytes, workers, poisonFreshMemory, bytes);
    }

    public SimSettings withPoisonFreshMemory(boolean poison) {
        return new SimSettings(name, computeCapability, multiprocessorCount, totalBytes, workers, poison, hostMemoryLimit);
    }
}
