package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.format.DType;
import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraMerge;
import io.paddock.lora.PeftAdapters;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.StepChunk;
import io.paddock.testing.SharedModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The PEFT fixtures of ../shared/models applied unmerged by the CPU runtime equal the same adapter merged into a
 * model directory by {@code paddock lora merge} (float64 merge, fp32 output) and run through the plain forward pass —
 * on the f16 base and on GPTQ bases — and the safetensors, {@code .bin} and f16 copies of one adapter agree.
 */
class PeftAdapterParityTests {
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426,
            338, 401, 396, 267};

    @TempDir Path tmp;

    @ParameterizedTest
    @CsvSource({"stories260K-padded, stories260K-lora-all", "stories260K-gptq-4bit-32g-actorder, stories260K-lora-all",
            "stories260K-gptq-3bit-32g-actorder, stories260K-lora-all", "stories260K-gptq-4bit-64g, stories260K-lora-qv",
            "stories260K-f16, stories260K-lora-qv"})
    void unmergedEqualsMergedDirectory(String baseName, String adapterName) {
        Path base = SharedModels.require(baseName), adapterDir = SharedModels.require(adapterName);
        float[] unmerged, merged, bare;
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(base); Parallel p = new Parallel(2)) {
            LoraAdapter adapter = PeftAdapters.load(adapterDir, adapterName, ckpt.weights().config());
            unmerged = run(ckpt, p, adapter);
            bare = run(ckpt, p, null);
            LoraMerge.write(ckpt, adapter, tmp.resolve("merged"), DType.F32);
            try (LlamaCheckpoint m = LlamaCheckpoint.open(tmp.resolve("merged"))) {
                merged = run(m, p, null);
            }
        }
        float max = 0;
        for (float v : merged) max = Math.max(max, Math.abs(v));
        assertThat(maxDiff(unmerged, merged)).isLessThanOrEqualTo(1e-3f * (1 + max));
        assertThat(maxDiff(unmerged, bare)).as("the adapter changes the logits").isGreaterThan(0.05f);
    }

    @Test
    void safetensorsBinAndHalfCopiesAgree() {
        Path base = SharedModels.require("stories260K-padded");
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(base); Parallel p = new Parallel(2)) {
            var c = ckpt.weights().config();
            float[] f32 = run(ckpt, p, PeftAdapters.load(SharedModels.require("stories260K-lora-all"), "a", c));
            float[] bin = run(ckpt, p, PeftAdapters.load(SharedModels.require("stories260K-lora-all-bin"), "b", c));
            float[] f16 = run(ckpt, p, PeftAdapters.load(SharedModels.require("stories260K-lora-all-f16"), "c", c));
            float max = 0;
            for (float v : f32) max = Math.max(max, Math.abs(v));
            // the .bin holds the same float32 values (PeftAdaptersTests compares them bit for bit); the logits agree
            // to float rounding only, as the Vector API kernels may sum in another order once the JIT compiles them
            assertThat(maxDiff(bin, f32)).as(".bin vs safetensors").isLessThanOrEqualTo(1e-5f * (1 + max));
            assertThat(maxDiff(f16, f32)).as("float16 rounding of the adapter").isLessThanOrEqualTo(1e-2f * (1 + max));
        }
    }

    private static float[] run(LlamaCheckpoint ckpt, Parallel p, LoraAdapter adapter) {
        try (CpuLlama llama = new CpuLlama(ckpt.weights(), p)) {
            // fp32 KV: the comparison is about the adapters; f16 KV would round run-to-run float differences into
            // steps of its own
            llama.useKvCacheDtype(KvCacheDtype.F32);
            int slot = StepChunk.NO_ADAPTER;
            if (adapter != null) {
                llama.reserveAdapters(1, adapter.maxRank());
                llama.loadAdapter(1, adapter);
                slot = 1;
            }
            return llama.forward(llama.newKvStore(2, 16), List.of(new StepChunk(new int[] {0, 1}, PROMPT, 0, true, slot)))[0];
        }
    }

    private static float maxDiff(float[] x, float[] y) {
        float m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return m;
    }
}
