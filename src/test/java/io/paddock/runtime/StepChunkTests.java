package io.paddock.runtime;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class StepChunkTests {
    @Test
    void anEmptyChunkIsRefused() {
        // Before: both runtimes took "the last row" of an empty chunk wanting logits from the previous chunk
        // (CpuLlama), or shifted every later chunk's logits by one (CudaRuntime).
        assertThatThrownBy(() -> new StepChunk(new int[] {0}, new int[0], 0, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one token");
        assertThatThrownBy(() -> new StepChunk(new int[] {0}, new int[] {1}, -1, true))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
