package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraModule;
import io.paddock.model.DemoModel;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.model.LlamaConfig;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.StepChunk;
import io.paddock.testing.LoraTesting;
import io.paddock.testing.SharedModels;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unmerged LoRA in the CPU runtime, proven against the merged reference ({@link LoraTesting#merged}): one step
 * mixing rows of two adapters and of the bare base gives, per chunk, the logits that chunk gets alone from the
 * plain forward pass over {@code W + scale·B·A} (or over the base, for the base chunk) — prefill and a decode step.
 */
class CpuLoraTests {
    private static final int[] PROMPT_A = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298};
    private static final int[] PROMPT_B = {1, 315, 421, 395, 317, 426, 338};
    private static final int[] PROMPT_C = {1, 401, 396, 267, 337, 410, 408, 419, 300};

    @TempDir Path tmp;

    @Test
    void demoModelMixedStepEqualsMergedReference() {
        check(DemoModel.materialize(tmp));
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-padded", "stories260K-gptq-4bit-32g-actorder", "stories260K-gptq-3bit-32g-actorder",
            "stories260K-gptq-4bit-nogroup"})
    void sharedModelMixedStepEqualsMergedReference(String name) {
        check(SharedModels.require(name));
    }

    private void check(Path dir) {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(dir); Parallel p = new Parallel(2); Arena arena = Arena.ofShared()) {
            LlamaWeights base = ckpt.weights();
            LlamaConfig c = base.config();
            int vocab = c.vocabSize();
            int[] a = clip(PROMPT_A, vocab), b = clip(PROMPT_B, vocab), cc = clip(PROMPT_C, vocab);
            LoraAdapter all = LoraTesting.randomAdapter("all", c, 8, 16, EnumSet.allOf(LoraModule.class), 0.05, 3);
            LoraAdapter qv = LoraTesting.randomAdapter("qv", c, 4, 8, Set.of(LoraModule.Q, LoraModule.V), 0.1, 12);

            float[][] unmerged;
            float[][] decode;
            try (CpuLlama llama = new CpuLlama(base, p)) {
                llama.useKvCacheDtype(KvCacheDtype.F32); // the proof is about LoRA; f16 KV rounding is tested apart
                llama.reserveAdapters(2, 8);
                llama.loadAdapter(1, all);
                llama.loadAdapter(2, qv);
                PagedKvStore kv = llama.newKvStore(6, 16);
                unmerged = llama.forward(kv, List.of(new StepChunk(new int[] {0}, a, 0, true, 1),
                        new StepChunk(new int[] {1}, b, 0, true, StepChunk.NO_ADAPTER),
                        new StepChunk(new int[] {2}, cc, 0, true, 2)));
                decode = llama.forward(kv, List.of(new StepChunk(new int[] {2}, new int[] {5}, cc.length, true, 2),
                        new StepChunk(new int[] {0}, new int[] {5}, a.length, true, 1),
                        new StepChunk(new int[] {1}, new int[] {5}, b.length, true, StepChunk.NO_ADAPTER)));
            }
            assertClose(unmerged[0], alone(LoraTesting.merged(base, all, arena), p, a), "adapter 'all' prefill");
            assertClose(unmerged[1], alone(base, p, b), "base prefill");
            assertClose(unmerged[2], alone(LoraTesting.merged(base, qv, arena), p, cc), "adapter 'qv' prefill");
            assertClose(decode[1], alone(LoraTesting.merged(base, all, arena), p, append(a, 5)), "adapter 'all' decode");
            assertClose(decode[2], alone(base, p, append(b, 5)), "base decode");
            assertClose(decode[0], alone(LoraTesting.merged(base, qv, arena), p, append(cc, 5)), "adapter 'qv' decode");
            // and the adapters matter: their logits are far from the base's
            assertThat(maxDiff(unmerged[0], alone(base, p, a))).isGreaterThan(1e-2f);
            assertThat(maxDiff(unmerged[2], alone(base, p, cc))).isGreaterThan(1e-2f);
        }
    }

    @Test
    void slotsRefuseWhatDoesNotFit() {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(DemoModel.materialize(tmp)); Parallel p = new Parallel(1);
             CpuLlama llama = new CpuLlama(ckpt.weights(), p)) {
            LlamaConfig c = ckpt.weights().config();
            LoraAdapter rank8 = LoraTesting.randomAdapter("r8", c, 8, 16, Set.of(LoraModule.Q), 0.05, 1);
            assertThatThrownBy(() -> llama.loadAdapter(1, rank8)).hasMessageContaining("slot 1 is not one of the 0");
            llama.reserveAdapters(1, 4);
            assertThatThrownBy(() -> llama.loadAdapter(1, rank8)).hasMessageContaining("rank 8")
                    .hasMessageContaining("rank 4 at most");
            LlamaConfig wider = new LlamaConfig(c.hiddenSize(), c.intermediateSize() + 8, c.numLayers(), c.numHeads(),
                    c.numKvHeads(), c.headDim(), c.vocabSize(), c.maxPositionEmbeddings(), c.rmsNormEps(), c.ropeTheta(),
                    c.tieWordEmbeddings(), c.bosId(), c.eosId(), c.eosIds(), c.torchDtype(), c.raw());
            LoraAdapter wrong = LoraTesting.randomAdapter("wide", wider, 4, 8, Set.of(LoraModule.DOWN), 0.05, 1);
            assertThatThrownBy(() -> llama.loadAdapter(1, wrong)).hasMessageContaining("layer 0 down_proj")
                    .hasMessageContaining("do not fit the base weight");
            PagedKvStore kv = llama.newKvStore(1, 16);
            assertThatThrownBy(() -> llama.forward(kv, List.of(new StepChunk(new int[] {0}, new int[] {1}, 0, true, 1))))
                    .hasMessageContaining("slot 1 holds no adapter");
        }
    }

    private static float[] alone(LlamaWeights w, Parallel p, int[] prompt) {
        try (CpuLlama llama = new CpuLlama(w, p)) {
            llama.useKvCacheDtype(KvCacheDtype.F32);
            return llama.forward(llama.newKvStore(1, 16), List.of(new StepChunk(new int[] {0}, prompt, 0, true)))[0];
        }
    }

    private static void assertClose(float[] actual, float[] expected, String what) {
        float max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        assertThat(maxDiff(actual, expected)).as(what).isLessThanOrEqualTo(1e-3f * (1 + max));
    }

    private static float maxDiff(float[] x, float[] y) {
        float m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return m;
    }

    private static int[] clip(int[] tokens, int vocab) {
        int[] out = tokens.clone();
        for (int i = 0; i < out.length; i++) out[i] = out[i] % vocab;
        return out;
    }

    private static int[] append(int[] tokens, int t) {
        int[] out = java.util.Arrays.copyOf(tokens, tokens.length + 1);
        out[tokens.length] = t;
        return out;
    }
}
