package io.paddock.engine;

import static io.paddock.testing.EngineTesting.awaitIdle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.loading.LoadedModel;
import io.paddock.model.DemoModel;
import io.paddock.sampling.Sample;
import io.paddock.sampling.SamplingParams;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine tells its {@link EngineObserver} each request's way through, each step and each refusal. */
class EngineObserverTests {
    @TempDir
    static Path cache;

    private static LoadedModel demo() {
        return LoadedModel.load(DemoModel.ID, DemoModel.DESCRIPTION, DemoModel.materialize(cache), 1);
    }

    /** Counts what it hears; threads as the engine calls it. */
    static final class Recording implements EngineObserver {
        final AtomicInteger queued = new AtomicInteger(), rejected = new AtomicInteger(),
                scheduled = new AtomicInteger(), firstTokens = new AtomicInteger(), steps = new AtomicInteger(),
                failed = new AtomicInteger();
        final AtomicLong tokens = new AtomicLong(), finishedTokens = new AtomicLong(), stepTokens = new AtomicLong(),
                maxBatch = new AtomicLong();
        final Map<FinishReason, AtomicInteger> finished = new ConcurrentHashMap<>();
        final Map<String, String> threads = new ConcurrentHashMap<>();
        final List<RuntimeException> errors = new CopyOnWriteArrayList<>();
        volatile long minTtft = Long.MAX_VALUE, minTotal = Long.MAX_VALUE;

        @Override public void queued(GenerationRequest r) { queued.incrementAndGet(); thread("queued"); }
        @Override public void rejected(GenerationRequest r, RequestRejectedException e) {
            rejected.incrementAndGet();
            thread("rejected");
        }
        @Override public void scheduled(GenerationRequest r, long queueNanos) {
            assertThat(queueNanos).isNotNegative();
            scheduled.incrementAndGet();
            thread("scheduled");
        }
        @Override public void firstToken(GenerationRequest r, int count, long sinceArrival) {
            firstTokens.incrementAndGet();
            tokens.addAndGet(count);
            minTtft = Math.min(minTtft, sinceArrival);
        }
        @Override public void tokens(GenerationRequest r, int count, long sinceLast) {
            assertThat(sinceLast).isPositive();
            tokens.addAndGet(count);
        }
        @Override public void finished(GenerationRequest r, FinishReason reason, int prompt, int generated,
                long total) {
            assertThat(prompt).isEqualTo(r.promptIds().length);
            finished.computeIfAbsent(reason, k -> new AtomicInteger()).incrementAndGet();
            finishedTokens.addAndGet(generated);
            minTotal = Math.min(minTotal, total);
            thread("finished");
        }
        @Override public void failed(GenerationRequest r, RuntimeException e, int prompt, int generated,
                long total) {
            failed.incrementAndGet();
            errors.add(e);
        }
        @Override public void step(long nanos, int batchSize, int tokens) {
            assertThat(nanos).isPositive();
            steps.incrementAndGet();
            stepTokens.addAndGet(tokens);
            maxBatch.accumulateAndGet(batchSize, Math::max);
        }

        private void thread(String event) { threads.put(event, Thread.currentThread().getName()); }

        int finished(FinishReason r) { return finished.getOrDefault(r, new AtomicInteger()).get(); }
    }

    private static GenerationRequest request(LoadedModel m, String prompt, int maxTokens) {
        return new GenerationRequest(m.encodePrompt(prompt), maxTokens, SamplingParams.greedy(), List.of(), true,
                "team-a");
    }

    @Test
    void requestsFromQueueToFinishAndEachStep() throws Exception {
        Recording seen = new Recording();
        try (GenerationService g = new GenerationService(demo(), new EngineConfig(16, 0, 4, 512, true, 8), seen)) {
            var a = g.submit(request(g.model(), "once upon a time", 6));
            var b = g.submit(request(g.model(), "hello there", 4));
            var none = g.submit(request(g.model(), "nothing to do", 0));
            GenerationResult ra = a.get(30, TimeUnit.SECONDS), rb = b.get(30, TimeUnit.SECONDS);
            none.get(30, TimeUnit.SECONDS);
            awaitIdle(g);

            assertThat(seen.queued).hasValue(3);
            assertThat(seen.scheduled).hasValue(2); // max_tokens 0 never runs
            assertThat(seen.firstTokens).hasValue(2);
            assertThat(seen.tokens).hasValue(ra.completionTokens() + rb.completionTokens()).hasValue(10);
            assertThat(seen.finishedTokens).hasValue(10);
            assertThat(seen.finished(FinishReason.LENGTH)).isEqualTo(3);
            assertThat(seen.minTtft).isPositive();
            assertThat(seen.steps.get()).isGreaterThanOrEqualTo(6);
            assertThat(seen.maxBatch.get()).isBetween(1L, 2L);
            assertThat(seen.stepTokens.get()).isEqualTo(g.stats().computedTokens());
            assertThat(seen.threads).containsEntry("queued", Thread.currentThread().getName())
                    .containsEntry("scheduled", "paddock-engine").containsEntry("finished", "paddock-engine");
            assertThat(seen.failed).hasValue(0);
        }
    }

    @Test
    void aCancelIsAFinishWithItsTokensSoFar() throws Exception {
        Recording seen = new Recording();
        try (GenerationService g = new GenerationService(demo(), new EngineConfig(16, 0, 1, 512, true, 8), seen)) {
            CompletableFuture<GenerationResult> done = new CompletableFuture<>();
            RequestHandle[] h = new RequestHandle[1];
            AtomicInteger texts = new AtomicInteger();
            h[0] = g.stream(request(g.model(), "once upon a time", 200), new EngineListener() {
                @Override public void onText(String d, int[] ids, List<Sample> s) {
                    if (texts.incrementAndGet() == 3) h[0].cancel();
                }
                @Override public void onFinish(GenerationResult r) { done.complete(r); }
                @Override public void onError(RuntimeException e) { done.completeExceptionally(e); }
            });
            GenerationResult r = done.get(30, TimeUnit.SECONDS);
            awaitIdle(g);
            assertThat(r.finishReason()).isEqualTo(FinishReason.CANCELLED);
            assertThat(seen.finished(FinishReason.CANCELLED)).isEqualTo(1);
            assertThat(seen.finishedTokens).hasValue(r.completionTokens());
            assertThat(seen.tokens).hasValue(r.completionTokens());
        }
    }

    @Test
    void aFullQueueIsARejectionOnTheCallersThread() throws Exception {
        Recording seen = new Recording();
        CountDownLatch release = new CountDownLatch(1);
        // One running sequence and no queue: a second request while the first is pending is refused.
        try (GenerationService g = new GenerationService(demo(), new EngineConfig(16, 0, 1, 512, true, 0), seen)) {
            CompletableFuture<GenerationResult> first = new CompletableFuture<>();
            g.stream(request(g.model(), "once upon a time", 50), new EngineListener() {
                @Override public void onText(String d, int[] ids, List<Sample> s) {
                    try {
                        release.await(10, TimeUnit.SECONDS); // hold the engine so the first stays pending
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                @Override public void onFinish(GenerationResult r) { first.complete(r); }
                @Override public void onError(RuntimeException e) { first.completeExceptionally(e); }
            });
            assertThatThrownBy(() -> g.stream(request(g.model(), "hello", 4), new EngineListener() {
                @Override public void onText(String d, int[] ids, List<Sample> s) {}
                @Override public void onFinish(GenerationResult r) {}
                @Override public void onError(RuntimeException e) {}
            })).isInstanceOf(RequestRejectedException.class);
            release.countDown();
            first.get(30, TimeUnit.SECONDS);
            assertThat(seen.rejected).hasValue(1);
            assertThat(seen.threads).containsEntry("rejected", Thread.currentThread().getName());
            assertThat(seen.queued).hasValue(1);
        }
    }

    @Test
    void aRequestPastTheQueueDeadlineEndsAsALateRefusal() throws Exception {
        Recording seen = new Recording();
        EngineConfig config = new EngineConfig(16, 0, 1, 512, true, 8, EngineConfig.DEFAULT_MAX_QUEUED_PROMPT_TOKENS,
                Duration.ofMillis(200));
        try (GenerationService g = new GenerationService(demo(), config, seen)) {
            CompletableFuture<GenerationResult> slow = new CompletableFuture<>();
            g.stream(request(g.model(), "once upon a time", 40), new EngineListener() {
                @Override public void onText(String d, int[] ids, List<Sample> s) {
                    try {
                        Thread.sleep(20); // keeps the only batch slot busy for about a second
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                @Override public void onFinish(GenerationResult r) { slow.complete(r); }
                @Override public void onError(RuntimeException e) { slow.completeExceptionally(e); }
            });
            var late = g.submit(request(g.model(), "hello", 4));
            assertThatThrownBy(() -> late.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(RequestRejectedException.class);
            slow.get(30, TimeUnit.SECONDS);
            awaitIdle(g);
            assertThat(seen.queued).hasValue(2);
            assertThat(seen.rejected).hasValue(0); // it was queued: the refusal came later
            assertThat(seen.failed).hasValue(1);
            assertThat(seen.errors).singleElement().isInstanceOf(RequestRejectedException.class);
            assertThat(seen.finished(FinishReason.LENGTH)).isEqualTo(1);
        }
    }
}
