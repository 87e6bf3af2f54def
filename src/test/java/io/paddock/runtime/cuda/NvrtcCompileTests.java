package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import jcuda.nvrtc.JNvrtc;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NVRTC compiles every kernel source and the second request is served from the cache (needs libnvrtc.so.12). */
@Tag("gpu")
class NvrtcCompileTests {

    @Test
    void compilesEverySourceAndCaches(@TempDir Path cache) throws Exception {
        try {
            JNvrtc.setExceptionsEnabled(true);
        } catch (Throwable t) {
            assumeTrue(false, "skipped: NVRTC binding unavailable (" + t.getClass().getSimpleName() + ": " + t.getMessage() + ")");
        }
        PtxCompiler compiler = new PtxCompiler(new CudaOptions(cache, null));
        for (Map.Entry<String, String> e : KernelSources.all().entrySet()) {
            String ptx = compiler.ptx(e.getKey(), e.getValue(), 9, 0);
            assertThat(ptx).contains(".entry");
        }
        try (var files = Files.list(cache)) {
            assertThat(files.filter(f -> f.toString().endsWith(".ptx")).count()).isEqualTo(KernelSources.all().size());
        }
    }
}
