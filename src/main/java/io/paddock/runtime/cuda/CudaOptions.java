package io.paddock.runtime.cuda;

import java.nio.file.Path;

/**
 * Where {@link CudaRuntime} keeps compiled PTX.
 *
 * @param ptxCacheDir    PTX compiled by NVRTC, one file per kernel source, device compute capability and source hash
 * @param prebuiltPtxDir optional ({@code null}) folder of {@code <source>.ptx} files compiled elsewhere (e.g. by
 *                       nvcc on the GPU machine, see scripts/gpu-check); used before NVRTC where a file is present,
 *                       so a machine without libnvrtc.so.12 can still run
 */
public record CudaOptions(Path ptxCacheDir, Path prebuiltPtxDir) {

    /** {@code -Dpaddock.cuda.ptx-cache} (default {@code $TMPDIR/paddock-ptx}) and {@code -Dpaddock.cuda.ptx-dir}. */
    public static CudaOptions fromSystemProperties() {
        String cache = System.getProperty("paddock.cuda.ptx-cache");
        Path cacheDir = cache == null || cache.isBlank()
                ? Path.of(System.getProperty("java.io.tmpdir"), "paddock-ptx") : Path.of(cache);
        String pre = System.getProperty("paddock.cuda.ptx-dir");
        return new CudaOptions(cacheDir, pre == null || pre.isBlank() ? null : Path.of(pre));
    }
}
