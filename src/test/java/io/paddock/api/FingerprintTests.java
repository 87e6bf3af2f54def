package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code system_fingerprint} names the runtime that generated, not always the CPU. */
class FingerprintTests {
    @Test
    void fingerprintFollowsTheRuntimeName() {
        assertThat(OpenAiResponses.envelope("id", "chat.completion", 1, "m", "cuda"))
                .containsEntry("system_fingerprint", "fp_paddock_cuda");
        assertThat(OpenAiResponses.envelope("id", "text_completion", 1, "m", "cpu"))
                .containsEntry("system_fingerprint", "fp_paddock_cpu");
    }
}
