package io.paddock.runtime.cuda;

import java.nio.file.Path;

/**
 * Where {@link CudaRuntime} keeps compiled PTX, and whether it replays decode steps as CUDA graphs.
 *
 * @param ptxCacheDir    PTX compiled by NVRTC, one file per kernel source, device compute capability and source hash
 * @param prebuiltPtxDir optional ({@code null}) folder of {@code <source>.ptx} files compiled elsewhere (e.g. by
 *                       nvcc on the GPU machine, see scripts/gpu-check); used before NVRTC where a file is present,
 *                       so a machine without libnvrtc.so.12 can still run
 * @param graphs         capture each decode step's device work as a CUDA graph per row count and replay it (one
 *                       launch per step instead of ~15 per layer); off runs every step launch by launch
 */
public record CudaOptions(Path ptxCacheDir, Path prebuiltPtxDir, boolean graphs) {

    /** Graphs on. */
    public CudaOptions(Path ptxCacheDir, Path prebuiltPtxDir) {
        this(ptxCacheDir, prebuiltPtxDir, true);
    }

    /**
     * {@code -Dpaddock.cuda.ptx-cache} (default {@code $TMPDIR/paddock-ptx}), {@code -Dpaddock.cuda.ptx-dir} and
     * {@code -Dpaddock.cuda.graphs} ({@code true}, the default, or {@code false}; anything else is refused).
     */
    public static CudaOptions fromSystemProperties() {
        String cache = System.getProperty("paddock.cuda.ptx-cache");
        Path cacheDir = cache == null || cache.isBlank()
                ? Path.of(System.getProperty("java.io.tmpdir"), "paddock-ptx") : Path.of(cache);
        String pre = System.getProperty("paddock.cuda.ptx-dir");
        return new CudaOptions(cacheDir, pre == null || pre.isBlank() ? null : Path.of(pre),
                graphs(System.getProperty("paddock.cuda.graphs")));
    }

    static boolean graphs(String value) {
        if (value == null || value.isBlank()) return true;
        return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "on" -> true;
            case "false", "off" -> false;
            default -> throw new IllegalArgumentException("paddock.cuda.graphs must be true or false, got '" + value + "'");
        };
    }
}
