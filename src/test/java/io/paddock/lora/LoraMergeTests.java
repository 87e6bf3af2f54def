package io.paddock.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.engine.EngineConfig;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.format.DType;
import io.paddock.loading.LoadedModel;
import io.paddock.sampling.SamplingParams;
import io.paddock.format.HalfFloats;
import io.paddock.format.SafetensorsFile;
import io.paddock.format.Tensor;
import io.paddock.model.DenseLinear;
import io.paddock.model.GptqLinear;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.testing.SharedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LoraMerge}: merged weights against an explicit float64 {@code W + s·B·A}, and the merged directory loads. */
class LoraMergeTests {
    @TempDir
    Path tmp;

    @Test
    void mergesOntoTheDenseBaseExactly() {
        Path base = SharedModels.require("stories260K-padded"), adapterDir = SharedModels.require("stories260K-lora-all");
        Path out = tmp.resolve("merged");
        LoraMerge.Result r = LoraMerge.merge(base, adapterDir, out, DType.F32);
        assertThat(r.mergedLinears()).isEqualTo(35);
        assertThat(r.dtype()).isEqualTo(DType.F32);
        for (String f : new String[] {"config.json", "generation_config.json", "tokenizer.model", "tokenizer.json",
                "tokenizer_config.json", "special_tokens_map.json", "model.safetensors"}) {
            assertThat(out.resolve(f)).isRegularFile();
        }
        try (LlamaCheckpoint b = LlamaCheckpoint.open(base); LlamaCheckpoint m = LlamaCheckpoint.open(out);
                SafetensorsFile baseFile = SafetensorsFile.open(base.resolve("model.safetensors"));
                SafetensorsFile mergedFile = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertThat(m.config().torchDtype()).isEqualTo("float32");
            assertThat(mergedFile.tensors().keySet()).isEqualTo(baseFile.tensors().keySet());
            LoraAdapter a = PeftAdapters.load(adapterDir, "all", b.config());
            int[][] picks = {{0, 0}, {0, 4}, {2, 1}, {3, 3}, {4, 6}, {1, 5}, {4, 2}};
            for (int[] p : picks) {
                LoraModule mod = LoraModule.values()[p[1]];
                Tensor w = ((DenseLinear) mod.of(b.weights().layers().get(p[0]))).weight();
                Tensor merged = ((DenseLinear) mod.of(m.weights().layers().get(p[0]))).weight();
                assertThat(merged.dtype()).isEqualTo(DType.F32);
                LoraPair pair = a.pair(p[0], mod);
                int out0 = pair.out(), in = pair.in(), rank = pair.rank();
                for (int o = 0; o < out0; o++) {
                    for (int i = 0; i < in; i++) {
                        double ba = 0;
                        for (int k = 0; k < rank; k++) ba += (double) pair.b()[o * rank + k] * pair.a()[k * in + i];
                        double expected = (double) w.getFloat((long) o * in + i) + 2.0 * ba;
                        assertThat(merged.getFloat((long) o * in + i)).isEqualTo((float) expected);
                    }
                }
            }
            // untouched tensors are the same values, widened
            Tensor emb = baseFile.tensor("model.embed_tokens.weight"), memb = mergedFile.tensor("model.embed_tokens.weight");
            assertThat(memb.toFloatArray()).isEqualTo(emb.toFloatArray());
            assertThat(mergedFile.tensor("model.layers.0.input_layernorm.weight").toFloatArray())
                    .isEqualTo(baseFile.tensor("model.layers.0.input_layernorm.weight").toFloatArray());
        }
    }

    @Test
    void mergesOntoAGptqBaseAsADenseModel() throws Exception {
        Path base = SharedModels.require("stories260K-gptq-4bit-32g-actorder");
        Path out = tmp.resolve("merged-gptq");
        LoraMerge.Result r = LoraMerge.merge(base, SharedModels.require("stories260K-lora-qv"), out, null);
        assertThat(r.dtype()).isEqualTo(DType.F16);
        assertThat(r.mergedLinears()).isEqualTo(10);
        assertThat(Files.readString(out.resolve("config.json"))).doesNotContain("quantization_config");
        assertThat(out.resolve("quantize_config.json")).doesNotExist();
        try (LlamaCheckpoint b = LlamaCheckpoint.open(base); LlamaCheckpoint m = LlamaCheckpoint.open(out)) {
            assertThat(m.gptqSpec()).isEmpty();
            LoraAdapter a = PeftAdapters.load(SharedModels.require("stories260K-lora-qv"), "qv", b.config());
            for (LoraModule mod : new LoraModule[] {LoraModule.Q, LoraModule.K, LoraModule.DOWN}) {
                GptqLinear g = (GptqLinear) mod.of(b.weights().layers().get(1));
                Tensor merged = ((DenseLinear) mod.of(m.weights().layers().get(1))).weight();
                assertThat(merged.dtype()).isEqualTo(DType.F16);
                float[] w = GptqDequantizer.weight(g);
                LoraPair pair = a.pair(1, mod);
                int in = g.inFeatures();
                for (int o = 0; o < g.outFeatures(); o++) {
                    for (int i = 0; i < in; i++) {
                        double expected = w[o * in + i];
                        if (pair != null) {
                            for (int k = 0; k < pair.rank(); k++) {
                                expected += 2.0 * pair.b()[o * pair.rank() + k] * pair.a()[k * in + i];
                            }
                        }
                        float got = merged.getFloat((long) o * in + i);
                        // one rounding of the float64 value to f16: within half an f16 ulp of it
                        float nearest = HalfFloats.f16ToFloat(HalfFloats.floatToF16((float) expected));
                        assertThat(Math.abs(got - expected)).isLessThanOrEqualTo(Math.abs(nearest - expected) + 1e-12);
                    }
                }
            }
        }
    }

    @Test
    void dequantizationMatchesTheStoredFormula() {
        Path base = SharedModels.require("stories260K-gptq-4bit-32g-actorder");
        try (LlamaCheckpoint b = LlamaCheckpoint.open(base)) {
            GptqLinear g = (GptqLinear) b.weights().layers().get(0).q();
            float[] w = GptqDequantizer.weight(g);
            // spot-check against the README formula, unpacking one code by hand
            int i = 37, o = 11, bits = g.spec().bits();
            int word = g.qweight().data().getAtIndex(io.paddock.format.LittleEndian.I32, (long) (i * bits / 32) * g.outFeatures() + o);
            int q = (word >>> ((i * bits) % 32)) & 0xF;
            int grp = g.group(i);
            int zword = g.qzeros().data().getAtIndex(io.paddock.format.LittleEndian.I32, (long) grp * g.zeroWords() + (o * bits / 32));
            int z = ((zword >>> ((o * bits) % 32)) & 0xF) + (g.spec().zeroPlusOne() ? 1 : 0);
            float s = HalfFloats.f16ToFloat(g.scales().data().getAtIndex(io.paddock.format.LittleEndian.I16, (long) grp * g.outFeatures() + o));
            assertThat(w[o * g.inFeatures() + i]).isEqualTo(s * (q - z));
        }
    }

    @Test
    void roundingToHalfIsOneRoundingOfTheFloat64Value() {
        // 1 + 2^-11 + 2^-40: float32 alone would round to the tie 1 + 2^-11, which f16 rounds down to 1
        double x = 1 + Math.pow(2, -11) + Math.pow(2, -40);
        assertThat(HalfFloats.f16ToFloat(HalfFloats.floatToF16((float) x))).isEqualTo(1f);
        assertThat(HalfFloats.f16ToFloat(HalfFloats.floatToF16(LoraMerge.roundToOddFloat(x)))).isEqualTo(1 + 0x1p-10f);
        assertThat(LoraMerge.roundToOddFloat(0.5)).isEqualTo(0.5f);
    }

    @Test
    void refusesAnOccupiedOutputAndAMismatchedAdapter() throws Exception {
        Path base = SharedModels.require("stories260K");
        Path occupied = Files.createDirectories(tmp.resolve("occupied"));
        Files.writeString(occupied.resolve("x"), "x");
        assertThatThrownBy(() -> LoraMerge.merge(base, SharedModels.require("stories260K-lora-qv"), occupied, DType.F16))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(occupied + ": output directory exists and is not empty");
        assertThatThrownBy(() -> LoraMerge.merge(base, SharedModels.require("stories260K-lora-all"), tmp.resolve("o"), DType.F16))
                .isInstanceOf(AdapterLoadException.class).hasMessageContaining("mlp.gate_proj.lora_B.weight' has shape [192, 8], expected [172, 8]");
        assertThat(tmp.resolve("o").resolve("model.safetensors")).doesNotExist();
        assertThat(Set.of(DType.values())).contains(DType.BF16);
    }

    @Test
    void theMergedModelServes() {
        Path out = tmp.resolve("served");
        LoraMerge.merge(SharedModels.require("stories260K-padded"), SharedModels.require("stories260K-lora-all"), out, DType.F16);
        String merged = greedy(out, 40), base = greedy(SharedModels.require("stories260K-padded"), 40);
        assertThat(base).startsWith("Once upon a time");
        assertThat(merged).isNotBlank().isNotEqualTo(base);
    }

    private static String greedy(Path dir, int tokens) {
        try (GenerationService g = new GenerationService(LoadedModel.load(dir.getFileName().toString(), "test", dir, 1),
                new EngineConfig(16, 0, 1, 512, true, 4))) {
            var req = new GenerationRequest(g.model().encodePrompt(""), tokens, SamplingParams.greedy(), List.of(), false);
            return g.generate(req, s -> {}).text();
        }
    }
}
