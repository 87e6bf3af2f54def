package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which prebuilt image {@link PtxCompiler} takes for a device (scripts/gpu-check's folder layout); no GPU needed. */
class PtxCompilerPrebuiltTests {
    @TempDir
    Path dir;

    private PtxCompiler compiler() {
        return new PtxCompiler(new CudaOptions(dir.resolve("cache"), dir));
    }

    private void write(String file, String text) throws Exception {
        Files.writeString(dir.resolve(file), text);
    }

    @Test
    void cubinOnlyForExactlyTheDevicesComputeCapability() throws Exception {
        Files.write(dir.resolve("gptq_matmul.sm_90.cubin"), new byte[] {0x7f, 'E', 'L', 'F', 0, 1});
        Files.write(dir.resolve("gptq_matmul.sm_80.cubin"), new byte[] {0x7f, 'E', 'L', 'F', 0, 2});
        PtxCompiler c = compiler();
        assertThat(c.cubin("gptq_matmul.cu", 9, 0)).hasValueSatisfying(b -> {
            assertThat(b.image()).containsExactly(0x7f, 'E', 'L', 'F', 0, 1); // as stored: no NUL appended
            assertThat(b.file()).isEqualTo(dir.resolve("gptq_matmul.sm_90.cubin"));
        });
        assertThat(c.cubin("gptq_matmul.cu", 8, 0)).hasValueSatisfying(b -> assertThat(b.image()[5]).isEqualTo((byte) 2));
        assertThat(c.cubin("gptq_matmul.cu", 8, 6)).isEmpty();   // sm_86: SASS of sm_80 is not taken, PTX is
        assertThat(c.cubin("gptq_matmul.cu", 10, 0)).isEmpty();
        assertThat(c.cubin("layer_ops.cu", 9, 0)).isEmpty();
        assertThat(new PtxCompiler(new CudaOptions(dir, null)).cubin("gptq_matmul.cu", 9, 0)).isEmpty();
    }

    @Test
    void ptxForTheHighestArchitectureNotAboveTheDevice() throws Exception {
        write("layer_ops.compute_80.ptx", "ptx80");
        write("layer_ops.compute_90.ptx", "ptx90");
        write("layer_ops.ptx", "plain");
        write("layer_ops_extra.compute_86.ptx", "another source");
        PtxCompiler c = compiler();
        assertThat(c.ptx("layer_ops.cu", "source", 9, 0)).isEqualTo("ptx90");
        assertThat(c.ptxOrigin("layer_ops.cu")).isEqualTo("prebuilt PTX " + dir.resolve("layer_ops.compute_90.ptx"));
        assertThat(c.ptx("layer_ops.cu", "source", 8, 9)).isEqualTo("ptx80");
        assertThat(c.ptx("layer_ops.cu", "source", 12, 0)).isEqualTo("ptx90");
        assertThat(c.ptx("layer_ops.cu", "source", 7, 5)).isEqualTo("plain");   // arch-less file: taken as before
    }

    @Test
    void archLessPtxStillWorksAlone() throws Exception {
        write("paged_attention.ptx", "plain");
        assertThat(compiler().ptx("paged_attention.cu", "source", 9, 0)).isEqualTo("plain");
    }

    @Test
    void cacheBeforeNvrtcWhereNothingIsPrebuilt() throws Exception {
        PtxCompiler c = compiler();
        String arch = "compute_90";
        Path cached = dir.resolve("cache").resolve("dense_matmul-" + arch + "-" + PtxCompiler.hash("src\0" + arch) + ".ptx");
        Files.createDirectories(cached.getParent());
        Files.writeString(cached, "cached");
        assertThat(c.ptx("dense_matmul.cu", "src", 9, 0)).isEqualTo("cached");
        assertThat(c.ptxOrigin("dense_matmul.cu")).isEqualTo("cached PTX " + cached);
    }
}
