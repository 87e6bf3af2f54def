package io.paddock.engine;

import static io.paddock.testing.EngineTesting.awaitIdle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.loading.LoadedModel;
import io.paddock.model.LlamaConfig;
import io.paddock.runtime.KvStore;
import io.paddock.runtime.ModelRuntime;
import io.paddock.runtime.StepChunk;
import io.paddock.sampling.SamplingParams;
import io.paddock.testing.SharedModels;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Admission limits, the queue deadline, step failures and draining, on stories260K behind a runtime the test can
 * slow down or make fail.
 */
class EngineResilienceTests {
    /** A token id no prompt here uses by accident: a chunk holding it fails the forward pass. */
    private static final int POISON = 300;

    /** The real runtime, with a delay per step and a failure for chunks holding {@link #POISON} (or every step). */
    private static final class ControlledRuntime implements ModelRuntime {
        private final ModelRuntime delegate;
        volatile long stepMillis;
        volatile boolean failEveryStep;

        ControlledRuntime(ModelRuntime delegate) { this.delegate = delegate; }

        @Override public LlamaConfig config() { return delegate.config(); }
        @Override public String name() { return "controlled"; }
        @Override public long kvBytesPerToken() { return delegate.kvBytesPerToken(); }
        @Override public long defaultKvBudgetBytes() { return delegate.defaultKvBudgetBytes(); }
        @Override public void reserveStep(int rows, int seqs, int blockSize) { delegate.reserveStep(rows, seqs, blockSize); }
        @Override public KvStore newKvStore(int numBlocks, int blockSize) { return delegate.newKvStore(numBlocks, blockSize); }
        @Override public void close() { delegate.close(); }

        @Override
        public float[][] forward(KvStore kv, List<StepChunk> chunks) {
            if (failEveryStep || chunks.stream().anyMatch(c -> Arrays.stream(c.tokens()).anyMatch(t -> t == POISON))) {
                throw new IllegalStateException("injected kernel fault");
            }
            if (stepMillis > 0) {
                try {
                    Thread.sleep(stepMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return delegate.forward(kv, chunks);
        }
    }

    private ControlledRuntime runtime;

    private GenerationService service(EngineConfig config) {
        LoadedModel m = LoadedModel.load("stories260K", "test", SharedModels.require("stories260K"), 1);
        runtime = new ControlledRuntime(m.runtime());
        return new GenerationService(new LoadedModel(m.id(), m.description(), m.checkpoint(), m.tokenizer(), runtime,
                m.parallel(), m.eosIds(), m.addBos()), config);
    }

    private static EngineConfig oneAtATime() {
        return new EngineConfig(16, 0, 1, 512, false, 8);
    }

    private static GenerationRequest request(int promptTokens, int maxTokens) {
        int[] prompt = new int[promptTokens];
        for (int i = 0; i < promptTokens; i++) prompt[i] = 50 + i;
        return new GenerationRequest(prompt, maxTokens, SamplingParams.greedy(), List.of(), true);
    }

    private static void awaitStarted(GenerationService g) throws InterruptedException {
        for (int i = 0; i < 500 && (g.stats().running() == 0 || g.queuedPromptTokens() > 0); i++) Thread.sleep(10);
        assertThat(g.stats().running()).isEqualTo(1);
    }

    private static Throwable failure(CompletableFuture<GenerationResult> f) throws Exception {
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected the request to fail");
    }

    @Test
    void waitingPromptTokensAreBounded() throws Exception {
        try (GenerationService g = service(oneAtATime().withQueueLimits(20, Duration.ofSeconds(60)))) {
            runtime.stepMillis = 20;
            var first = g.submit(request(10, 30));
            awaitStarted(g);
            var second = g.submit(request(15, 2)); // 15 waiting: fits
            assertThat(g.queuedPromptTokens()).isEqualTo(15);
            assertThatThrownBy(() -> g.submit(request(10, 2))) // 25 would wait
                    .isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                        assertThat(e.reason()).isEqualTo(RequestRejectedException.Reason.OVERLOADED);
                        assertThat(e.code()).isEqualTo("server_overloaded");
                        assertThat(e.getMessage()).contains("15 prompt tokens are already waiting (limit 20)");
                    });
            assertThat(first.get(30, TimeUnit.SECONDS).finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(second.get(30, TimeUnit.SECONDS).finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(awaitIdle(g).blocksUsed()).isZero();
            assertThat(g.queuedPromptTokens()).isZero();
        }
    }

    @Test
    void aRequestWaitingPastTheDeadlineIsDroppedAsOverloaded() throws Exception {
        try (GenerationService g = service(oneAtATime().withQueueLimits(1000, Duration.ofMillis(300)))) {
            runtime.stepMillis = 20;
            var first = g.submit(request(4, 60)); // ~1.2 s of steps
            awaitStarted(g);
            var second = g.submit(request(4, 4));
            assertThat(failure(second)).isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                assertThat(e.reason()).isEqualTo(RequestRejectedException.Reason.OVERLOADED);
                assertThat(e.getMessage()).contains("waited 300 ms without starting");
            });
            assertThat(first.get(30, TimeUnit.SECONDS).completionTokens()).isEqualTo(60);
            assertThat(awaitIdle(g).blocksUsed()).isZero();
            assertThat(g.queuedPromptTokens()).isZero();
        }
    }

    @Test
    void aFailedStepFailsItsRequestsAndTheEngineGoesOn() throws Exception {
        try (GenerationService g = service(oneAtATime())) {
            int[] poisoned = {1, 40, POISON, 41};
            var bad = g.submit(new GenerationRequest(poisoned, 8, SamplingParams.greedy(), List.of(), true));
            var good = g.submit(request(6, 8)); // queued behind it: not in the failed step
            assertThat(failure(bad)).hasMessageContaining("injected kernel fault");
            assertThat(good.get(30, TimeUnit.SECONDS).completionTokens()).isEqualTo(8);
            assertThat(g.ready()).isTrue();
            assertThat(g.breakerState()).isEqualTo("CLOSED");
            assertThat(awaitIdle(g).blocksUsed()).isZero();
        }
    }

    @Test
    void repeatedStepFailuresOpenTheBreakerAndRefuseNewRequests() throws Exception {
        try (GenerationService g = service(oneAtATime())) {
            runtime.failEveryStep = true;
            for (int i = 0; i < StepBreaker.MIN_STEPS; i++) {
                assertThat(failure(g.submit(request(4, 4)))).hasMessageContaining("injected kernel fault");
            }
            assertThat(g.breakerState()).isEqualTo("OPEN");
            assertThat(g.ready()).isFalse();
            assertThatThrownBy(() -> g.submit(request(4, 4))).isInstanceOfSatisfying(RequestRejectedException.class,
                    e -> assertThat(e.getMessage()).contains("is recovering"));
            assertThat(awaitIdle(g).blocksUsed()).isZero();
        }
    }

    @Test
    void drainingRefusesNewRequestsAndLetsRunningOnesFinish() throws Exception {
        try (GenerationService g = service(oneAtATime())) {
            runtime.stepMillis = 10;
            var running = g.submit(request(4, 30));
            var queued = g.submit(request(4, 5));
            g.drain("the server is shutting down");
            assertThat(g.ready()).isFalse();
            assertThatThrownBy(() -> g.submit(request(4, 4))).isInstanceOfSatisfying(RequestRejectedException.class,
                    e -> assertThat(e.code()).isEqualTo("server_shutting_down"));
            assertThat(g.awaitIdle(Duration.ofSeconds(30))).isTrue();
            assertThat(running.get().completionTokens()).isEqualTo(30);
            assertThat(queued.get().completionTokens()).isEqualTo(5);
            g.resume(); // a stopped context started again
            assertThat(g.ready()).isTrue();
            assertThat(g.submit(request(4, 3)).get(30, TimeUnit.SECONDS).completionTokens()).isEqualTo(3);
        }
    }

    @Test
    void closingAfterTheDrainTimeoutCutsOffWithAnErrorNamingTheShutdown() throws Exception {
        CompletableFuture<GenerationResult> running;
        try (GenerationService g = service(oneAtATime())) {
            runtime.stepMillis = 50;
            running = g.submit(request(4, 200));
            g.drain("the server is shutting down");
            assertThat(g.awaitIdle(Duration.ofMillis(200))).isFalse();
        }
        assertThat(failure(running)).isInstanceOf(RequestRejectedException.class)
                .hasMessageContaining("shutting down").hasMessageContaining("cut off");
    }
}
