package io.paddock.loading;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paddock.model.GptqOverrides;
import io.paddock.runtime.cuda.CudaDevices;
import io.paddock.testing.SharedModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Backend choice at load: auto falls back to the CPU with the reason; cuda without a device is a clear error. */
class RuntimeChoiceTests {

    @Test
    void autoFallsBackToTheCpuAndSaysWhy() {
        assumeTrue(CudaDevices.unavailableReason().isPresent(), "a CUDA device is present: nothing to fall back from");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (LoadedModel m = LoadedModel.load("s", "t", SharedModels.require("stories260K"), 1, GptqOverrides.NONE,
                "auto", new PrintStream(log, true, StandardCharsets.UTF_8))) {
            assertThat(m.runtime().name()).isEqualTo("cpu");
        }
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("cpu runtime (")
                .contains(CudaDevices.unavailableReason().orElseThrow());
    }

    @Test
    void cudaWithoutADeviceIsAClearError() {
        assumeTrue(CudaDevices.unavailableReason().isPresent(), "a CUDA device is present");
        var dir = SharedModels.require("stories260K"); // outside the lambda: a missing fixture skips, not fails
        assertThatThrownBy(() -> LoadedModel.load("s", "t", dir, 1, GptqOverrides.NONE,
                "cuda", System.err)).isInstanceOf(EngineStartException.class)
                .hasMessageContaining(CudaDevices.unavailableReason().orElseThrow());
    }
}
