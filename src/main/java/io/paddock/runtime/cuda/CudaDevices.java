package io.paddock.runtime.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuInit;

import java.util.Optional;
import jcuda.driver.JCudaDriver;

/** Probes for a usable CUDA device without ever letting a missing driver or native library escape as an error. */
public final class CudaDevices {
    private CudaDevices() {}

    /** Free and total bytes of device memory. */
    public record MemInfo(long freeBytes, long totalBytes) {}

    /**
     * Empty where device 0 can be used; otherwise a one-line reason, e.g. "no CUDA driver (libcuda.so.1 not
     * found)". Loading the JCuda natives fails with a {@link LinkageError} where the driver is absent, so every
     * {@link Throwable} is caught here. Probed once per JVM: a native library that failed to load cannot be
     * loaded again, and a later probe would only see a less helpful {@link NoClassDefFoundError}.
     */
    public static Optional<String> unavailableReason() {
        return Probe.REASON;
    }

    /** Lazy holder: the probe runs on first use only, and its (immutable) answer is kept. */
    private static final class Probe {
        static final Optional<String> REASON = probe();
    }

    private static Optional<String> probe() {
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) return Optional.of("no CUDA device (the driver reports 0 devices)");
            return Optional.empty();
        } catch (Throwable t) {
            return Optional.of(describe(t));
        }
    }

    static String describe(Throwable t) {
        String msg = String.valueOf(t.getMessage());
        for (Throwable c = t.getCause(); c != null; c = c.getCause()) msg += " / " + c.getMessage();
        if (t instanceof LinkageError) {
            if (msg.contains("libcuda")) return "no CUDA driver (libcuda.so.1 not found)";
            if (t instanceof NoClassDefFoundError) return "no CUDA driver (the JCuda driver binding failed to load earlier)";
            return "JCuda driver binding could not be loaded: " + firstLine(msg);
        }
        if (msg.contains("CUDA_ERROR_NO_DEVICE")) return "no CUDA device (CUDA_ERROR_NO_DEVICE)";
        return "CUDA unavailable: " + t.getClass().getSimpleName() + ": " + firstLine(msg);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
