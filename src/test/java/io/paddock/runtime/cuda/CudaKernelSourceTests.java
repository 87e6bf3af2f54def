package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CUDA sources must compile to PTX and export every kernel the future JCuda runtime looks up by name. nvcc
 * stands in for NVRTC (no libnvrtc here); no GPU is needed. Numerical parity is a GPU session's job
 * (docs/gpu-kernels.md).
 */
class CudaKernelSourceTests {
    private static final Path SOURCES = Path.of("src/main/resources/cuda");

    // file -> kernels it must export (extern "C", so the PTX entry name is the plain name)
    private static final Map<String, List<String>> EXPECTED = Map.of(
            "gptq_matmul.cu", List.of("gptq_matmul_decode", "gptq_matmul_batched", "gptq_gather_x"),
            "layer_ops.cu", List.of("rmsnorm_f32", "rope_rotate_half_f32", "swiglu_f32", "add_inplace_f32",
                    "embedding_rows", "argmax_rows"),
            "paged_attention.cu", List.of("paged_attention_f32", "kv_store_f32"));

    @ParameterizedTest
    @ValueSource(strings = {"compute_90", "compute_80"})
    void everySourceCompilesToPtxWithItsKernels(String arch, @TempDir Path tmp) throws Exception {
        Optional<Path> nvcc = findNvcc();
        assumeTrue(nvcc.isPresent(), "no nvcc on PATH or under /usr/local/cuda*/bin: CUDA sources not compiled");
        List<Path> sources;
        try (Stream<Path> s = Files.list(SOURCES)) {
            sources = s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
        assertThat(sources.stream().map(p -> p.getFileName().toString())).containsAll(EXPECTED.keySet());
        for (Path cu : sources) {
            Path ptx = tmp.resolve(cu.getFileName() + "." + arch + ".ptx");
            Path log = tmp.resolve(cu.getFileName() + "." + arch + ".log");
            Process p = new ProcessBuilder(nvcc.get().toString(), "--ptx", "-arch=" + arch, "-o", ptx.toString(),
                    cu.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean done = p.waitFor(5, TimeUnit.MINUTES);
            if (!done) p.destroyForcibly();
            String output = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(done && p.exitValue() == 0).as("nvcc %s %s:%n%s", arch, cu, output).isTrue();
            String text = Files.readString(ptx, StandardCharsets.UTF_8);
            for (String kernel : EXPECTED.getOrDefault(cu.getFileName().toString(), List.of())) {
                assertThat(text).as("%s (%s) exports %s", cu, arch, kernel).contains(".entry " + kernel + "(");
            }
        }
    }

    private static Optional<Path> findNvcc() throws IOException {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) if (!dir.isEmpty()) candidates.add(Path.of(dir, "nvcc"));
        }
        Path local = Path.of("/usr/local");
        if (Files.isDirectory(local)) {
            try (Stream<Path> s = Files.list(local)) {
                s.filter(d -> d.getFileName().toString().startsWith("cuda")).sorted()
                        .forEach(d -> candidates.add(d.resolve("bin/nvcc")));
            }
        }
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }
}
