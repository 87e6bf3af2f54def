package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code system_fingerprint} names the runtime that generated, not always the CPU. */
class FingerprintTests {
    @Test
    void fingerprintFollowsTheRuntimeName() {
        assertThat(ResponseHeader.create("chatcmpl", "m", "cuda").systemFingerprint()).isEqualTo("fp_paddock_cuda");
        assertThat(ResponseHeader.create("cmpl", "m", "cpu").systemFingerprint()).isEqualTo("fp_paddock_cpu");
    }
}
