package io.paddock.engine;

import static io.paddock.testing.EngineTesting.awaitIdle;
import static io.paddock.testing.EngineTesting.concat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.loading.LoadedModel;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.cpu.PagedKvStore;
import io.paddock.sampling.Sample;
import io.paddock.sampling.SamplingParams;
import io.paddock.testing.SharedModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The continuous-batching engine on the real stories260K model. */
class EngineCoreTests {
    private static final String MODEL = "stories260K";

    private static LoadedModel model() {
        return LoadedModel.load(MODEL, "test", SharedModels.require(MODEL), 2);
    }

    record Outcome(GenerationResult result, String streamed, boolean cancelled) {}

    /** Submits and collects; cancels after {@code cancelAfterTexts} text events when >= 0. */
    private static CompletableFuture<Outcome> run(GenerationService g, GenerationRequest req, int cancelAfterTexts) {
        CompletableFuture<Outcome> f = new CompletableFuture<>();
        StringBuilder streamed = new StringBuilder();
        AtomicInteger texts = new AtomicInteger();
        RequestHandle[] handle = new RequestHandle[1];
        handle[0] = g.stream(req, new EngineListener() {
            @Override public void onText(String delta, int[] ids, List<Sample> samples) {
                streamed.append(delta);
                if (texts.incrementAndGet() == cancelAfterTexts) handle[0].cancel();
            }
            @Override public void onFinish(GenerationResult r) {
                f.complete(new Outcome(r, streamed.toString(), r.finishReason() == FinishReason.CANCELLED));
            }
            @Override public void onError(RuntimeException e) { f.completeExceptionally(e); }
        });
        return f;
    }

    @Test
    void concurrentRequestsUnderPreemptionEqualTheSameRequestsRunAlone() throws Exception {
        SplittableRandom r = new SplittableRandom(7);
        String[] words = {"Once", "upon", "a", "time", "Lily", "Tom", "ball", "park", "happy", "sad", "dog", "cat",
                "the", "and", "saw", "big", "red", "tree", "she", "he"};
        String[] stops = {"Lily", ".", "park", "\n", "she said"};
        List<GenerationRequest> requests = new ArrayList<>();
        List<Integer> cancelAfter = new ArrayList<>();
        try (LoadedModel probe = model()) {
            for (int i = 0; i < 40; i++) {
                StringBuilder prompt = new StringBuilder();
                int len = 1 + r.nextInt(i % 5 == 0 ? 120 : 25);
                for (int w = 0; w < len; w++) prompt.append(w == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
                List<String> stop = r.nextInt(3) == 0 ? List.of(stops[r.nextInt(stops.length)]) : List.of();
                requests.add(new GenerationRequest(probe.encodePrompt(prompt.toString()), 1 + r.nextInt(80),
                        SamplingParams.greedy(), stop, r.nextInt(4) == 0));
                cancelAfter.add(r.nextInt(6) == 0 ? 1 + r.nextInt(10) : -1);
            }
        }
        // Alone: one sequence at a time, plenty of KV.
        List<Outcome> alone = new ArrayList<>();
        try (GenerationService g = new GenerationService(model(), new EngineConfig(16, 0, 1, 512, false, 64))) {
            for (GenerationRequest req : requests) alone.add(run(g, req, -1).get(60, TimeUnit.SECONDS));
        }
        // Together: 40 at once on a pool of 40 blocks (640 tokens) with a 64-token step budget, prefix caching on.
        long blockBytes = 16L * PagedKvStore.bytesPerToken(5, 32, KvCacheDtype.F16); // the CPU default
        EngineStats end;
        List<Outcome> together = new ArrayList<>();
        try (GenerationService g = new GenerationService(model(), new EngineConfig(16, 40 * blockBytes, 16, 64, true, 64))) {
            List<CompletableFuture<Outcome>> futures = new ArrayList<>();
            for (int i = 0; i < requests.size(); i++) futures.add(run(g, requests.get(i), cancelAfter.get(i)));
            for (var f : futures) together.add(f.get(120, TimeUnit.SECONDS));
            end = awaitIdle(g);
        }
        int completed = 0;
        for (int i = 0; i < requests.size(); i++) {
            Outcome t = together.get(i), a = alone.get(i);
            if (t.cancelled()) {
                // A cancelled request's tokens are a prefix of the full answer.
                assertThat(a.result().tokens()).as("request %d", i).startsWith(t.result().tokens());
                continue;
            }
            completed++;
            assertThat(t.result().tokens()).as("request %d tokens", i).containsExactly(a.result().tokens());
            assertThat(t.result().text()).as("request %d text", i).isEqualTo(a.result().text());
            assertThat(t.streamed()).as("request %d streamed", i).isEqualTo(t.result().text());
            assertThat(t.result().finishReason()).isEqualTo(a.result().finishReason());
        }
        assertThat(completed).isGreaterThan(25);
        assertThat(end.preemptions()).as("the pool must be small enough to force preemption").isPositive();
        assertThat(end.blocksUsed()).as("every block back in the pool").isZero();
        assertThat(end.running()).isZero();
        assertThat(end.waiting()).isZero();
    }

    @Test
    void sharedPrefixIsComputedOnce() throws Exception {
        try (GenerationService g = new GenerationService(model(), new EngineConfig(16, 0, 4, 512, true, 8))) {
            StringBuilder text = new StringBuilder("Once upon a time");
            while (g.model().encodePrompt(text.toString()).length < 200) text.append(" there was a happy little dog");
            int[] prefix = Arrays.copyOf(g.model().encodePrompt(text.toString()), 200);
            int[] first = concat(prefix, g.model().encodePrompt(" Lily"));
            int[] second = concat(prefix, g.model().encodePrompt(" Tom went to the park"));
            g.generate(new GenerationRequest(first, 4, SamplingParams.greedy(), List.of(), true), t -> { });
            long before = awaitIdle(g).computedTokens();
            g.generate(new GenerationRequest(second, 4, SamplingParams.greedy(), List.of(), true), t -> { });
            EngineStats after = awaitIdle(g);
            long computed = after.computedTokens() - before;
            // 200 shared tokens = 12 full blocks (192 tokens) reused; the rest of the prompt and 3 decode steps run.
            int expected = second.length - 192 + 3;
            assertThat(computed).isEqualTo(expected);
            assertThat(after.prefixHitTokens()).isGreaterThanOrEqualTo(192);
        }
    }

    @Test
    void samplesOfOnePromptShareItsBlocks() throws Exception {
        try (LoadedModel m = model(); EngineCore core = new EngineCore(m, new EngineConfig(16, 0, 8, 512, true, 8))) {
            StringBuilder text = new StringBuilder("Once upon a time");
            while (m.encodePrompt(text.toString()).length < 200) text.append(" there was a happy little dog");
            int[] prompt = Arrays.copyOf(m.encodePrompt(text.toString()), 200);
            List<GenerationRequest> samples = new ArrayList<>();
            List<CompletableFuture<GenerationResult>> results = new ArrayList<>();
            List<EngineListener> listeners = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                SamplingParams p = SamplingParams.builder().temperature(1.0f).seed(100L + i).build();
                samples.add(new GenerationRequest(prompt, 10, p, List.of(), true));
                CompletableFuture<GenerationResult> f = new CompletableFuture<>();
                results.add(f);
                listeners.add(new EngineListener() {
                    @Override public void onText(String delta, int[] ids, List<Sample> samples) { }
                    @Override public void onFinish(GenerationResult r) { f.complete(r); }
                    @Override public void onError(RuntimeException e) { f.completeExceptionally(e); }
                });
            }
            core.submitSamples(samples, listeners);
            Set<String> distinct = new HashSet<>();
            for (var f : results) distinct.add(Arrays.toString(f.get(60, TimeUnit.SECONDS).tokens()));
            assertThat(distinct).as("different seeds give different samples").hasSizeGreaterThan(1);
            for (int i = 0; i < 100 && core.pending() > 0; i++) Thread.sleep(10);
            Thread.sleep(100);
            // The prompt once (200), the three others only past the 12 shared full blocks (8 each), 9 decodes each.
            assertThat(core.stats().computedTokens()).isEqualTo(200 + 3 * 8 + 4 * 9);
        }
    }

    @Test
    void requestThatCanNeverFitIsRefusedUpFront() {
        long blockBytes = 16L * PagedKvStore.bytesPerToken(5, 32, KvCacheDtype.F16); // the CPU default
        try (GenerationService g = new GenerationService(model(), new EngineConfig(16, 24 * blockBytes, 4, 64, true, 8))) {
            int[] prompt = new int[300];
            Arrays.fill(prompt, 300);
            assertThatThrownBy(() -> g.stream(new GenerationRequest(prompt, 300, SamplingParams.greedy(), List.of(), false),
                    null)).isInstanceOf(RequestRejectedException.class).hasMessageContaining("context length");
            assertThatThrownBy(() -> g.stream(new GenerationRequest(prompt, 200, SamplingParams.greedy(), List.of(), false),
                    null)).isInstanceOf(RequestRejectedException.class).hasMessageContaining("KV blocks");
        }
    }
}
