package io.paddock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.loading.LoadedModel;
import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraModule;
import io.paddock.model.DemoModel;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.model.LlamaConfig;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.cpu.CpuLlama;
import io.paddock.sampling.SamplingParams;
import io.paddock.testing.LoraTesting;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA adapters through the whole engine on the demo model: every greedy output with an adapter equals the output
 * of a separate engine over the merged weights ({@link LoraTesting#merged}), with more adapters in flight than the
 * runtime has slots, the prefix cache never crossing adapters, and unloading waiting for the requests in flight.
 */
class EngineLoraTests {
    @TempDir static Path tmp;
    static Path dir;
    static LlamaConfig config;
    static final Map<String, LoraAdapter> ADAPTERS = new HashMap<>();
    static final Map<String, List<Integer>> MERGED = new HashMap<>(); // "adapter|prompt" -> greedy tokens
    static Arena arena;

    static final int[][] PROMPTS = {
            {1, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38}, // > one 16-token block
            {1, 40, 41, 42},
    };
    static final int STEPS = 12;
    /** fp32 KV: outputs are compared token for token with other engines; f16 KV rounding is tested apart. */
    static final EngineConfig CONFIG = EngineConfig.defaults().withKvCacheDtype(KvCacheDtype.F32);

    @BeforeAll
    static void setUp() {
        dir = DemoModel.materialize(tmp);
        arena = Arena.ofShared();
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir)) {
            config = c.weights().config();
        }
        ADAPTERS.put("all", LoraTesting.randomAdapter("all", config, 8, 16, EnumSet.allOf(LoraModule.class), 0.3, 3));
        ADAPTERS.put("qv", LoraTesting.randomAdapter("qv", config, 4, 8, Set.of(LoraModule.Q, LoraModule.V), 0.6, 12));
        ADAPTERS.put("mlp", LoraTesting.randomAdapter("mlp", config, 16, 16,
                Set.of(LoraModule.GATE, LoraModule.UP, LoraModule.DOWN), 0.3, 5));
        ADAPTERS.put("o", LoraTesting.randomAdapter("o", config, 2, 4, Set.of(LoraModule.O), 1.0, 7));
        for (var e : ADAPTERS.entrySet()) {
            LoadedModel merged = LoadedModel.load("merged-" + e.getKey(), "", dir, GptqOverrides.NONE, 1,
                    (w, p) -> new CpuLlama(LoraTesting.merged(w, e.getValue(), arena), p));
            try (GenerationService s = new GenerationService(merged, CONFIG)) {
                for (int[] prompt : PROMPTS) MERGED.put(e.getKey() + "|" + prompt.length, greedy(s, prompt, null));
            }
        }
    }

    @AfterAll
    static void tearDown() {
        arena.close();
    }

    @Test
    void moreAdaptersInFlightThanSlotsEachGetTheirMergedOutput() throws Exception {
        try (GenerationService s = service(new LoraConfig(2, 16, 3))) {
            ADAPTERS.forEach((name, a) -> s.adapters().add(name, a));
            List<int[]> base = new ArrayList<>();
            for (int[] prompt : PROMPTS) base.add(toArray(greedy(s, prompt, null)));
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (String name : List.of("all", "qv", "mlp", "o")) {
                    for (int[] prompt : PROMPTS) {
                        futures.add(s.submit(request(prompt, name)));
                        expected.add(name + "|" + prompt.length);
                    }
                }
                futures.add(s.submit(request(PROMPTS[0], null)));
                expected.add("base");
            }
            for (int i = 0; i < futures.size(); i++) {
                List<Integer> got = tokens(futures.get(i).get(60, TimeUnit.SECONDS));
                if (expected.get(i).equals("base")) {
                    assertThat(toArray(got)).as("base").isEqualTo(base.getFirst());
                } else {
                    assertThat(got).as(expected.get(i)).isEqualTo(MERGED.get(expected.get(i)));
                }
            }
            // the adapters changed the outputs (otherwise this test would prove nothing)
            assertThat(MERGED.get("all|" + PROMPTS[0].length)).isNotEqualTo(toList(base.getFirst()));
            assertThat(MERGED.get("qv|" + PROMPTS[0].length)).isNotEqualTo(toList(base.getFirst()));
        }
    }

    @Test
    void prefixCacheIsKeyedByAdapter() throws Exception {
        try (GenerationService s = service(new LoraConfig(2, 16, 4))) {
            s.adapters().add("all", ADAPTERS.get("all"));
            s.adapters().add("qv", ADAPTERS.get("qv"));
            int[] prompt = PROMPTS[0];
            List<Integer> base = greedy(s, prompt, null);
            long hits = s.stats().prefixHitTokens();
            assertThat(greedy(s, prompt, "all")).isEqualTo(MERGED.get("all|" + prompt.length));
            assertThat(greedy(s, prompt, "qv")).isEqualTo(MERGED.get("qv|" + prompt.length));
            assertThat(s.stats().prefixHitTokens()).as("no block shared across adapters or with the base").isEqualTo(hits);
            assertThat(greedy(s, prompt, "all")).isEqualTo(MERGED.get("all|" + prompt.length));
            assertThat(s.stats().prefixHitTokens()).as("the same adapter reuses its own blocks").isGreaterThan(hits);
            assertThat(greedy(s, prompt, null)).isEqualTo(base);
        }
    }

    @Test
    void unloadWaitsForRequestsInFlightAndFreesTheName() throws Exception {
        try (GenerationService s = service(new LoraConfig(1, 16, 1))) {
            s.adapters().add("all", ADAPTERS.get("all"));
            CompletableFuture<GenerationResult> running = s.submit(new GenerationRequest(PROMPTS[1], 200,
                    SamplingParams.greedy(), List.of(), true, GenerationRequest.ANONYMOUS, "all"));
            CompletableFuture<Void> unloaded = s.unloadAdapter("all");
            assertThatThrownBy(() -> s.submit(request(PROMPTS[1], "all")))
                    .isInstanceOfSatisfying(RequestRejectedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RequestRejectedException.Reason.NOT_FOUND));
            assertThat(running.get(60, TimeUnit.SECONDS).completionTokens()).isEqualTo(200);
            unloaded.get(10, TimeUnit.SECONDS);
            assertThat(s.adapters().list()).isEmpty();
            assertThatThrownBy(() -> s.unloadAdapter("all")).isInstanceOf(RequestRejectedException.class)
                    .hasMessageContaining("cannot be found");
            // the name is free again: another adapter under it gives its own outputs (no stale KV, no stale slot)
            s.adapters().add("all", ADAPTERS.get("qv"));
            assertThat(greedy(s, PROMPTS[0], "all")).isEqualTo(MERGED.get("qv|" + PROMPTS[0].length));
            assertThat(s.awaitIdle(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void anAdapterThatCannotBeReadAgainFailsOnlyItsRequests() throws Exception {
        Set<String> unreadable = java.util.concurrent.ConcurrentHashMap.newKeySet();
        AdapterRegistry registry = new AdapterRegistry(new LoraConfig(1, 16, 1), (name, d) -> {
            if (unreadable.contains(name)) throw new IllegalStateException(d + ": no such directory");
            return ADAPTERS.get(d.getFileName().toString()).renamed(name);
        });
        try (GenerationService s = new GenerationService(LoadedModel.load("demo", "", dir, 2), CONFIG,
                EngineObserver.NONE, registry)) {
            s.adapters().add("first", Path.of("/adapters/all"));
            s.adapters().add("second", Path.of("/adapters/qv")); // the host cache holds one: "first" is dropped
            unreadable.add("first");
            CompletableFuture<GenerationResult> base = s.submit(request(PROMPTS[0], null));
            CompletableFuture<GenerationResult> first = s.submit(request(PROMPTS[0], "first"));
            CompletableFuture<GenerationResult> second = s.submit(request(PROMPTS[0], "second"));
            assertThatThrownBy(() -> first.get(60, TimeUnit.SECONDS)).hasMessageContaining("'first' could not be loaded")
                    .hasMessageContaining("/adapters/all: no such directory");
            assertThat(tokens(second.get(60, TimeUnit.SECONDS))).isEqualTo(MERGED.get("qv|" + PROMPTS[0].length));
            assertThat(base.get(60, TimeUnit.SECONDS).completionTokens()).isEqualTo(STEPS);
            unreadable.clear(); // readable again: served again
            assertThat(greedy(s, PROMPTS[0], "first")).isEqualTo(MERGED.get("all|" + PROMPTS[0].length));
            assertThat(s.breakerState()).isEqualTo("CLOSED");
        }
    }

    @Test
    void unknownAdaptersAndOversizedRanksAreRefused() {
        try (GenerationService s = service(new LoraConfig(1, 8, 1))) {
            assertThatThrownBy(() -> s.submit(request(PROMPTS[1], "nope")))
                    .isInstanceOf(RequestRejectedException.class).hasMessageContaining("'nope' does not exist");
            assertThatThrownBy(() -> s.adapters().add("mlp", ADAPTERS.get("mlp")))
                    .hasMessageContaining("rank 16").hasMessageContaining("limit of 8");
            s.adapters().add("qv", ADAPTERS.get("qv"));
            assertThatThrownBy(() -> s.adapters().add("qv", ADAPTERS.get("qv")))
                    .hasMessageContaining("has already been loaded");
            assertThat(s.pending()).isZero();
        }
        try (GenerationService off = new GenerationService(LoadedModel.load("demo", "", dir, 1), CONFIG)) {
            assertThatThrownBy(() -> off.adapters().add("qv", ADAPTERS.get("qv"))).hasMessageContaining("max-loras is 0");
        }
    }

    private static GenerationService service(LoraConfig lora) {
        return new GenerationService(LoadedModel.load("demo", "", dir, 2), CONFIG, EngineObserver.NONE,
                new AdapterRegistry(lora, (name, d) -> {
                    throw new IllegalStateException("no directories in this test");
                }));
    }

    private static GenerationRequest request(int[] prompt, String adapter) {
        return new GenerationRequest(prompt, STEPS, SamplingParams.greedy(), List.of(), true,
                GenerationRequest.ANONYMOUS, adapter);
    }

    private static List<Integer> greedy(GenerationService s, int[] prompt, String adapter) {
        try {
            return tokens(s.submit(request(prompt, adapter)).get(60, TimeUnit.SECONDS));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static List<Integer> tokens(GenerationResult r) {
        return toList(r.tokens());
    }

    private static List<Integer> toList(int[] t) {
        List<Integer> out = new ArrayList<>();
        for (int v : t) out.add(v);
        return out;
    }

    private static int[] toArray(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }
}
