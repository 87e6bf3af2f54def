package io.paddock.runtime.cuda;

import static io.paddock.testing.EngineTesting.awaitIdle;
import static io.paddock.testing.EngineTesting.concat;
import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.engine.EngineConfig;
import io.paddock.engine.EngineStats;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
import io.paddock.loading.LoadedModel;
import io.paddock.model.GptqOverrides;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.cpu.CpuLlama;
import io.paddock.sampling.SamplingParams;
import io.paddock.testing.SharedModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CUDA runtime under the real engine (scheduler, KV manager, prefix cache, preemption by recompute) against the
 * CPU runtime under the same engine: greedy outputs must be identical token for token.
 */
class CudaEngineTests {
    private static final int BLOCK = 16;

    private static LoadedModel onGpu(String model) {
        Path dir = SharedModels.require(model);
        return LoadedModel.load(model, "test", dir, GptqOverrides.NONE, 1,
                (weights, parallel) -> CudaTesting.runtime(weights));
    }

    private static LoadedModel onCpu(String model) {
        return LoadedModel.load(model, "test", SharedModels.require(model), GptqOverrides.NONE, 2, CpuLlama::new);
    }

    /**
     * 16 greedy requests (seed 9): prompts of 1..100 tokens (every fourth long), 1..60 new tokens each — on a small
     * pool enough to force preemption. CudaGraphsTests runs the same set.
     */
    static List<GenerationRequest> preemptionRequests() {
        SplittableRandom r = new SplittableRandom(9);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            int[] prompt = new int[1 + r.nextInt(i % 4 == 0 ? 100 : 20)];
            prompt[0] = 1;
            for (int t = 1; t < prompt.length; t++) prompt[t] = 3 + r.nextInt(500);
            requests.add(new GenerationRequest(prompt, 1 + r.nextInt(60), SamplingParams.greedy(), List.of(), true));
        }
        return requests;
    }

    @ParameterizedTest
    @EnumSource(value = KvCacheDtype.class, names = {"F16", "F32"})
    void concurrentRequestsUnderPreemptionMatchTheCpuEngine(KvCacheDtype kv) throws Exception {
        String model = "stories260K-gptq-4bit-32g-actorder";
        List<GenerationRequest> requests = preemptionRequests();
        List<GenerationResult> reference = new ArrayList<>();
        // Both engines keep their KV cache in the same type, which both runtimes round to nearest even.
        try (GenerationService cpu = new GenerationService(onCpu(model),
                new EngineConfig(BLOCK, 0, 1, 512, false, 64).withKvCacheDtype(kv))) {
            for (GenerationRequest q : requests) reference.add(cpu.submit(q).get(60, TimeUnit.SECONDS));
        }
        // 16 requests at once on 16 blocks (256 tokens) with a 64-token step budget: the pool runs out, so sequences
        // are preempted and recomputed; prefix caching is on.
        long blockBytes = BLOCK * 2L * 5 * 32 * kv.bytes();
        EngineStats end;
        List<GenerationResult> gpu = new ArrayList<>();
        try (GenerationService g = new GenerationService(onGpu(model),
                new EngineConfig(BLOCK, 16 * blockBytes, 16, 64, true, 64).withKvCacheDtype(kv))) {
            assertThat(g.model().runtime().kvCacheDtype()).isEqualTo(kv);
            assertThat(g.model().runtime().name()).isEqualTo("cuda");
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            for (GenerationRequest q : requests) futures.add(g.submit(q));
            for (var f : futures) gpu.add(f.get(300, TimeUnit.SECONDS));
            end = awaitIdle(g);
        }
        for (int i = 0; i < requests.size(); i++) {
            assertThat(gpu.get(i).tokens()).as("request %d", i).containsExactly(reference.get(i).tokens());
        }
        assertThat(end.preemptions()).as("the pool must be small enough to force preemption").isPositive();
        assertThat(end.blocksUsed()).as("every block back in the pool").isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K"})
    void sharedPrefixIsReusedFromTheDevicePool(String model) throws Exception {
        int[] prefix = new int[200];
        prefix[0] = 1;
        for (int i = 1; i < prefix.length; i++) prefix[i] = 3 + (i * 37) % 500;
        int[] first = concat(prefix, new int[] {417, 290});
        int[] second = concat(prefix, new int[] {301, 350, 311, 299, 400});
        int[][] outputs = new int[2][];
        try (GenerationService cpu = new GenerationService(onCpu(model), new EngineConfig(BLOCK, 0, 4, 512, false, 8))) {
            outputs[0] = cpu.submit(new GenerationRequest(second, 8, SamplingParams.greedy(), List.of(), true))
                    .get(60, TimeUnit.SECONDS).tokens();
        }
        try (GenerationService g = new GenerationService(onGpu(model), new EngineConfig(BLOCK, 0, 4, 512, true, 8))) {
            g.submit(new GenerationRequest(first, 4, SamplingParams.greedy(), List.of(), true)).get(60, TimeUnit.SECONDS);
            long before = awaitIdle(g).computedTokens();
            outputs[1] = g.submit(new GenerationRequest(second, 8, SamplingParams.greedy(), List.of(), true))
                    .get(60, TimeUnit.SECONDS).tokens();
            EngineStats after = awaitIdle(g);
            // 200 shared tokens = 12 full blocks (192 tokens) come from the pool; the rest of the prompt and 7 decodes run.
            assertThat(after.computedTokens() - before).isEqualTo(second.length - 192 + 7);
            assertThat(after.prefixHitTokens()).isGreaterThanOrEqualTo(192);
        }
        assertThat(outputs[1]).containsExactly(outputs[0]);
    }
}
