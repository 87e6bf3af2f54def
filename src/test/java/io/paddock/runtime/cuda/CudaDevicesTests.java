package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CudaDevicesTests {

    @Test
    void probeNeverThrowsAndExplainsItself() {
        Optional<String> first = CudaDevices.unavailableReason();
        Optional<String> second = CudaDevices.unavailableReason(); // the binding's class may now be in a failed state
        assertThat(first.isPresent()).isEqualTo(second.isPresent());
        if (!Files.exists(Path.of("/dev/nvidiactl"))) {
            assertThat(first).hasValueSatisfying(r -> assertThat(r).containsIgnoringCase("cuda").doesNotContain("\n"));
            assertThat(second).hasValueSatisfying(r -> assertThat(r).containsIgnoringCase("cuda"));
        }
    }

    @Test
    void describesAMissingDriver() {
        assertThat(CudaDevices.describe(new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file")))
                .isEqualTo("no CUDA driver (libcuda.so.1 not found)");
        assertThat(CudaDevices.describe(new RuntimeException("CUDA_ERROR_NO_DEVICE")))
                .isEqualTo("no CUDA device (CUDA_ERROR_NO_DEVICE)");
    }
}
