package io.paddock.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.format.DType;
import io.paddock.format.HalfFloats;
import io.paddock.format.SafetensorsWriter;
import io.paddock.model.LlamaConfig;
import io.paddock.testing.SharedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The PEFT adapter fixtures of ../shared/models read onto their base models. */
class PeftAdaptersTests {
    @TempDir
    Path tmp;

    private static LlamaConfig config(String model) {
        return LlamaConfig.load(SharedModels.require(model));
    }

    private static LoraAdapter load(String adapter, String model) {
        return PeftAdapters.load(SharedModels.require(adapter), adapter, config(model));
    }

    @Test
    void allThreeFormatsOfTheSameAdapterAgree() {
        LoraAdapter f32 = load("stories260K-lora-all", "stories260K-padded");
        LoraAdapter bin = load("stories260K-lora-all-bin", "stories260K-padded");
        LoraAdapter f16 = load("stories260K-lora-all-f16", "stories260K-padded");
        assertThat(f32.numLayers()).isEqualTo(5);
        assertThat(f32.maxRank()).isEqualTo(8);
        assertThat(f32.bytes()).isEqualTo(48_640L * 4);
        assertThat(f32.name()).isEqualTo("stories260K-lora-all");
        for (int l = 0; l < 5; l++) {
            for (LoraModule m : LoraModule.values()) {
                LoraPair p = f32.pair(l, m), b = bin.pair(l, m), h = f16.pair(l, m);
                assertThat(p.rank()).isEqualTo(8);
                assertThat(p.scale()).isEqualTo(2f);
                assertThat(b.a()).isEqualTo(p.a());
                assertThat(b.b()).isEqualTo(p.b());
                assertThat(h.a()).isEqualTo(roundedToF16(p.a()));
                assertThat(h.b()).isEqualTo(roundedToF16(p.b()));
            }
        }
        LoraPair down = f32.pair(0, LoraModule.DOWN), gate = f32.pair(0, LoraModule.GATE);
        assertThat(down.in()).isEqualTo(192);
        assertThat(down.out()).isEqualTo(64);
        assertThat(gate.out()).isEqualTo(192);
        assertThat(f32.pair(0, LoraModule.K).out()).isEqualTo(32);
        // the padded rows 172..191 of gate_proj lora_B are zero, as the fixture README says
        for (int i = 172 * 8; i < 192 * 8; i++) assertThat(gate.b()[i]).isZero();
    }

    private static float[] roundedToF16(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = HalfFloats.f16ToFloat(HalfFloats.floatToF16(v[i]));
        return out;
    }

    @Test
    void theQvAdapterFitsEveryBase() {
        for (String model : new String[] {"stories260K", "stories260K-f16", "stories260K-padded"}) {
            LoraAdapter qv = load("stories260K-lora-qv", model);
            assertThat(qv.maxRank()).isEqualTo(4);
            for (int l = 0; l < 5; l++) {
                assertThat(qv.pair(l, LoraModule.Q).out()).isEqualTo(64);
                assertThat(qv.pair(l, LoraModule.V).out()).isEqualTo(32);
                assertThat(qv.pair(l, LoraModule.K)).isNull();
                assertThat(qv.pair(l, LoraModule.DOWN)).isNull();
            }
            assertThat(qv.pair(0, LoraModule.Q).scale()).isEqualTo(2f);
        }
    }

    @Test
    void theAllAdapterDoesNotFitTheUnpaddedModel() {
        Path dir = SharedModels.require("stories260K-lora-all");
        assertThatThrownBy(() -> PeftAdapters.load(dir, "all", config("stories260K")))
                .isInstanceOf(AdapterLoadException.class)
                .hasMessage(dir.resolve("adapter_model.safetensors") + ": tensor "
                        + "'base_model.model.model.layers.0.mlp.gate_proj.lora_B.weight' has shape [192, 8], expected "
                        + "[172, 8] (out_features 172, rank 8 of the base model)");
    }

    @Test
    void aWrongShapeIsRefusedNamingTheTensor() {
        Path dir = SharedModels.require("stories260K-lora-bad-shape");
        assertThatThrownBy(() -> PeftAdapters.load(dir, "bad", config("stories260K-padded")))
                .isInstanceOf(AdapterLoadException.class)
                .hasMessageContaining("adapter_model.safetensors")
                .hasMessageContaining("'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'")
                .hasMessageContaining("has shape [4, 72], expected [4, 64]");
    }

    @Test
    void missingPathsAreNamed() throws IOException {
        LlamaConfig c = config("stories260K-padded");
        Path absent = tmp.resolve("absent");
        assertThatThrownBy(() -> PeftAdapters.load(absent, "x", c)).isInstanceOf(AdapterLoadException.class)
                .hasMessage(absent + ": adapter directory not found");
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertThatThrownBy(() -> PeftAdapters.load(empty, "x", c))
                .hasMessageStartingWith(empty.resolve("adapter_config.json") + ": file not found");
        Files.copy(SharedModels.require("stories260K-lora-qv").resolve("adapter_config.json"), empty.resolve("adapter_config.json"));
        assertThatThrownBy(() -> PeftAdapters.load(empty, "x", c))
                .hasMessage(empty + ": no adapter weights (neither adapter_model.safetensors nor adapter_model.bin)");
    }

    /** A qv adapter of rank 1 over 5 layers written as {@code keys} say, in a directory of its own. */
    private Path adapter(String name, String config, String... keys) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 1, \"lora_alpha\": 2, "
                + "\"target_modules\": [\"q_proj\", \"v_proj\"]" + config + "}");
        SafetensorsWriter w = new SafetensorsWriter();
        for (String k : keys) {
            boolean a = k.contains("lora_A");
            int out = k.contains("v_proj") ? 32 : 64;
            long[] shape = a ? new long[] {1, 64} : new long[] {out, 1};
            w.addFloats(k, DType.F32, shape, new float[a ? 64 : out]);
        }
        w.write(dir.resolve("adapter_model.safetensors"));
        return dir;
    }

    private static String[] qvKeys(int layers, String adapterName, String... extra) {
        String[] out = new String[layers * 4 + extra.length];
        int i = 0;
        for (int l = 0; l < layers; l++) {
            for (String m : new String[] {"q_proj", "v_proj"}) {
                for (String ab : new String[] {"A", "B"}) {
                    out[i++] = "base_model.model.model.layers." + l + ".self_attn." + m + ".lora_" + ab
                            + (adapterName == null ? "" : "." + adapterName) + ".weight";
                }
            }
        }
        System.arraycopy(extra, 0, out, i, extra.length);
        return out;
    }

    @Test
    void keysWithTheAdapterNameAreAccepted() throws IOException {
        LoraAdapter a = PeftAdapters.load(adapter("named", "", qvKeys(5, "default")), "n", config("stories260K"));
        assertThat(a.pair(4, LoraModule.V).rank()).isEqualTo(1);
    }

    @Test
    void unexpectedAndMissingTensorsAreRefusedByName() throws IOException {
        LlamaConfig c = config("stories260K");
        String bias = "base_model.model.model.layers.0.self_attn.q_proj.bias";
        assertThatThrownBy(() -> PeftAdapters.load(adapter("bias", "", qvKeys(5, null, bias)), "x", c))
                .isInstanceOf(AdapterLoadException.class).hasMessageContaining("unexpected tensor '" + bias + "'");
        String layer9 = "base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight";
        assertThatThrownBy(() -> PeftAdapters.load(adapter("deep", "", qvKeys(5, null, layer9)), "x", c))
                .hasMessageContaining("unexpected tensor '" + layer9 + "': layer 9 is beyond the base model's 5 layers");
        String k = "base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight";
        assertThatThrownBy(() -> PeftAdapters.load(adapter("k", "", qvKeys(5, null, k)), "x", c))
                .hasMessageContaining("unexpected tensor '" + k + "': adapter_config.json does not target model.layers.0.self_attn.k_proj");
        assertThatThrownBy(() -> PeftAdapters.load(adapter("short", "", qvKeys(4, null)), "x", c))
                .hasMessageContaining("tensor 'base_model.model.model.layers.4.self_attn.q_proj.lora_A.weight' is missing");
        // layers_to_transform: only those layers, and tensors of the others are unexpected
        LoraAdapter two = PeftAdapters.load(adapter("two", ", \"layers_to_transform\": [0, 1]", qvKeys(2, null)), "x", c);
        assertThat(two.pair(1, LoraModule.Q)).isNotNull();
        assertThat(two.pair(2, LoraModule.Q)).isNull();
        assertThatThrownBy(() -> PeftAdapters.load(adapter("two5", ", \"layers_to_transform\": [0, 1]", qvKeys(5, null)), "x", c))
                .hasMessageContaining("does not target model.layers.2.self_attn.q_proj");
    }

    @Test
    void fanInFanOutChangesNothingOnLlamaLinears() throws IOException {
        // PEFT resets fan_in_fan_out to false for nn.Linear targets; lora_A / lora_B keep [r, in] / [out, r]
        LoraAdapter a = PeftAdapters.load(adapter("fifo", ", \"fan_in_fan_out\": true", qvKeys(5, null)), "x", config("stories260K"));
        assertThat(a.config().fanInFanOut()).isTrue();
        assertThat(a.pair(0, LoraModule.V).out()).isEqualTo(32);
    }

    @Test
    void rankPatternSetsTheExpectedRank() throws IOException {
        LlamaConfig c = config("stories260K");
        Path dir = adapter("ranks", ", \"rank_pattern\": {\"v_proj\": 2}", qvKeys(5, null));
        assertThatThrownBy(() -> PeftAdapters.load(dir, "x", c))
                .hasMessageContaining("'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight' has shape [1, 64], expected [2, 64]");
    }
}
