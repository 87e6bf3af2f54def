package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runtime's own kernel source compiles to PTX (nvcc here; NVRTC on the GPU machine) and exports its entry. */
class DenseKernelSourceTests {

    @Test
    void compilesAndExportsDenseMatmul(@TempDir Path dir) throws Exception {
        Optional<Path> nvcc = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .filter(d -> !d.isEmpty()).map(d -> Path.of(d, "nvcc")).filter(Files::isExecutable).findFirst();
        assumeTrue(nvcc.isPresent(), "no nvcc on PATH: dense_matmul.cu not compiled");
        KernelSources.main(new String[] {dir.toString()});
        assertThat(dir.resolve("gptq_matmul.cu")).exists();
        for (String arch : new String[] {"compute_80", "compute_90"}) {
            Path ptx = dir.resolve("dense-" + arch + ".ptx");
            Process p = new ProcessBuilder(nvcc.get().toString(), "--ptx", "-arch=" + arch, "-o", ptx.toString(),
                    dir.resolve(DenseKernelSource.NAME).toString()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0).as("nvcc %s:%n%s", arch, log).isTrue();
            assertThat(Files.readString(ptx)).contains(".entry dense_matmul(");
        }
    }
}
