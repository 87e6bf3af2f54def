package io.paddock.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The breaker around forward steps: a lone failure never opens it; a run of them does, until trial steps pass. */
class StepBreakerTests {
    private final RuntimeException fault = new IllegalStateException("fault");

    @Test
    void oneFailureAmongGoodStepsKeepsItClosed() {
        StepBreaker b = new StepBreaker("m");
        for (int i = 0; i < 5; i++) b.succeeded(1000);
        b.failed(1000, fault);
        b.succeeded(1000);
        assertThat(b.state()).isEqualTo("CLOSED");
        assertThat(b.admits()).isTrue();
    }

    @Test
    void repeatedFailuresOpenItAndGoodTrialStepsCloseIt() throws InterruptedException {
        StepBreaker b = new StepBreaker("m", Duration.ofMillis(100));
        for (int i = 0; i < StepBreaker.MIN_STEPS; i++) b.failed(1000, fault);
        assertThat(b.state()).isEqualTo("OPEN");
        assertThat(b.admits()).isFalse();
        Thread.sleep(150);
        assertThat(b.admits()).isTrue();
        assertThat(b.state()).isEqualTo("HALF_OPEN");
        for (int i = 0; i < StepBreaker.TRIAL_STEPS; i++) b.succeeded(1000);
        assertThat(b.state()).isEqualTo("CLOSED");
    }

    @Test
    void aFailedTrialOpensItAgain() throws InterruptedException {
        StepBreaker b = new StepBreaker("m", Duration.ofMillis(100));
        for (int i = 0; i < StepBreaker.MIN_STEPS; i++) b.failed(1000, fault);
        Thread.sleep(150);
        assertThat(b.admits()).isTrue();
        b.failed(1000, fault);
        b.failed(1000, fault);
        assertThat(b.state()).isEqualTo("OPEN");
    }
}
