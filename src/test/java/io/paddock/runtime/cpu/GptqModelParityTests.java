package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.format.DType;
import io.paddock.format.Tensor;
import io.paddock.format.TensorInfo;
import io.paddock.model.DenseLinear;
import io.paddock.model.GptqLinear;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.StepChunk;
import io.paddock.testing.SharedModels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole-model parity for every GPTQ fixture: logits from the fused GPTQ kernels equal logits from the same model
 * whose GPTQ layers were explicitly dequantized to fp32 (the formula, {@link GptqReference#dequantize}) and run
 * through the dense fp32 matmul. Tolerance: |Δ| ≤ 2e-3 · (1 + max|logit|) over a 24-token prompt, the fused and
 * dense kernels summing in different orders through 5 layers.
 */
class GptqModelParityTests {
    @TempDir
    Path cacheDir;

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-gptq-4bit-32g-actorder", "stories260K-gptq-4bit-nogroup",
            "stories260K-gptq-4bit-64g", "stories260K-gptq-3bit-32g-actorder", "stories260K-gptq-8bit-nogroup",
            "stories260K-gptq-2bit-32g", "stories260K-gptq-legacy-4bit-32g"})
    void fusedLogitsEqualDequantizedReference(String name) {
        Path dir = SharedModels.require(name);
        GptqOverrides overrides = name.contains("legacy") ? new GptqOverrides(4, 32, null) : GptqOverrides.NONE;
        int[] prompt = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396,
                267, 337, 410, 408, 419};
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(dir, overrides); Parallel p = new Parallel(2);
             Arena arena = Arena.ofShared()) {
            assertThat(ckpt.weights().layers().getFirst().q()).isInstanceOf(GptqLinear.class);
            float[] fused, reference;
            try (CpuLlama llama = new CpuLlama(ckpt.weights(), p)) {
                fused = run(llama, prompt);
            }
            try (CpuLlama dense = new CpuLlama(dequantized(ckpt.weights(), arena), p)) {
                reference = run(dense, prompt);
            }
            float max = 0;
            for (float v : reference) max = Math.max(max, Math.abs(v));
            for (int i = 0; i < fused.length; i++) {
                assertThat(Math.abs(fused[i] - reference[i])).as("logit %d", i).isLessThanOrEqualTo(2e-3f * (1 + max));
            }
            // The same through the prepared-weights cache, building it, then mapping it (its tiles equal the
            // in-memory ones byte for byte: PreparedCacheTests).
            PreparedCache cache = PreparedCache.at(cacheDir, System.err).withSources(ckpt.store().files());
            for (int round = 0; round < 2; round++) {
                try (CpuLlama cached = new CpuLlama(ckpt.weights(), p, cache)) {
                    float[] viaCache = run(cached, prompt);
                    for (int i = 0; i < fused.length; i++) {
                        assertThat(Math.abs(viaCache[i] - reference[i])).as("through the cache, round %d, logit %d",
                                round, i).isLessThanOrEqualTo(2e-3f * (1 + max));
                    }
                }
            }
        }
    }

    private static float[] run(CpuLlama llama, int[] prompt) {
        PagedKvStore kv = llama.newKvStore(2, 16);
        return llama.forward(kv, List.of(new StepChunk(new int[] {0, 1}, prompt, 0, true)))[0];
    }

    private static LlamaWeights dequantized(LlamaWeights w, Arena arena) {
        List<LayerWeights> layers = new ArrayList<>();
        for (LayerWeights l : w.layers()) {
            layers.add(new LayerWeights(l.attentionNorm(), dense(l.q(), arena), dense(l.k(), arena), dense(l.v(), arena),
                    dense(l.o(), arena), l.mlpNorm(), dense(l.gate(), arena), dense(l.up(), arena), dense(l.down(), arena)));
        }
        return new LlamaWeights(w.config(), w.embedding(), layers, w.finalNorm(), dense(w.lmHead(), arena));
    }

    /** The explicit reference: w (in, out) from the formula, stored transposed as an fp32 (out, in) matrix. */
    private static Linear dense(Linear lin, Arena arena) {
        if (!(lin instanceof GptqLinear g)) return lin;
        int in = g.inFeatures(), out = g.outFeatures();
        float[] w = GptqReference.dequantize(g);
        MemorySegment seg = arena.allocate((long) in * out * 4, 64);
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT, (long) o * in + i, w[i * out + o]);
        }
        TensorInfo info = new TensorInfo(g.name() + ".dequantized", DType.F32, new long[] {out, in},
                Path.of("dequantized"), 0, seg.byteSize());
        return new DenseLinear(new Tensor(info, seg));
    }
}
