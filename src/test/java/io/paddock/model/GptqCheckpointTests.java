package io.paddock.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.format.DType;
import io.paddock.format.ModelLoadException;
import io.paddock.testing.SharedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The real AutoGPTQ fixtures of stories260K: every variant opens with the right settings and dequantizes sanely. */
class GptqCheckpointTests {
    static final String LEGACY = "stories260K-gptq-legacy-4bit-32g";
    static final String LEGACY_FILE = "stories260K-4bit-32g.safetensors";
    static final GptqOverrides LEGACY_SETTINGS = new GptqOverrides(4, 32, false);

    /** directory, expected spec, and the bound on mean |w_gptq − w_f16| / mean |w_f16| over layer 2. */
    static Stream<Arguments> variants() {
        return Stream.of(
                Arguments.of("stories260K-gptq-4bit-32g-actorder", new GptqSpec(4, 32, true, true, true), 0.15),
                Arguments.of("stories260K-gptq-4bit-nogroup", new GptqSpec(4, -1, false, true, true), 0.16),
                Arguments.of("stories260K-gptq-4bit-64g", new GptqSpec(4, 64, false, true, true), 0.15),
                Arguments.of("stories260K-gptq-3bit-32g-actorder", new GptqSpec(3, 32, true, true, true), 0.28),
                Arguments.of("stories260K-gptq-8bit-nogroup", new GptqSpec(8, -1, false, true, true), 0.02),
                Arguments.of("stories260K-gptq-2bit-32g", new GptqSpec(2, 32, false, true, true), 0.65),
                Arguments.of(LEGACY, new GptqSpec(4, 32, false, true, true), 0.15));
    }

    static LlamaCheckpoint open(String dir) {
        Path p = SharedModels.require(dir);
        return LlamaCheckpoint.open(p, dir.equals(LEGACY) ? LEGACY_SETTINGS : GptqOverrides.NONE);
    }

    @ParameterizedTest
    @MethodSource("variants")
    void everyVariantOpensWithItsSettings(String dir, GptqSpec expected, double unused) {
        try (LlamaCheckpoint c = open(dir)) {
            assertThat(c.gptqSpec()).contains(expected);
            LlamaWeights w = c.weights();
            assertThat(w.layers()).hasSize(5);
            for (LayerWeights l : w.layers()) {
                for (Linear lin : List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down())) {
                    assertThat(lin).isInstanceOfSatisfying(GptqLinear.class, g -> {
                        assertThat(g.spec()).isEqualTo(expected);
                        assertThat(g.gIdx()).isNotNull();
                        assertThat(g.bias()).isNull();
                    });
                }
                assertThat(l.q().inFeatures()).isEqualTo(64);
                assertThat(l.k().outFeatures()).isEqualTo(32);
                assertThat(l.down().inFeatures()).isEqualTo(192);
            }
            assertThat(w.lmHead()).isInstanceOf(DenseLinear.class);
            assertThat(((DenseLinear) w.lmHead()).weight().dtype()).isEqualTo(DType.F16);
            assertThat(w.embedding().dtype()).isEqualTo(DType.F16);
        }
    }

    @ParameterizedTest
    @MethodSource("variants")
    void dequantizedWeightsAreCloseToTheF16Model(String dir, GptqSpec spec, double bound) {
        Path padded = SharedModels.require("stories260K-padded");
        try (LlamaCheckpoint q = open(dir); LlamaCheckpoint f = LlamaCheckpoint.open(padded)) {
            LayerWeights lq = q.weights().layers().get(2), lf = f.weights().layers().get(2);
            double diff = 0, mag = 0, wrongZero = 0, wrongOrder = 0;
            List<Linear> qs = List.of(lq.q(), lq.k(), lq.v(), lq.o(), lq.gate(), lq.up(), lq.down());
            List<Linear> fs = List.of(lf.q(), lf.k(), lf.v(), lf.o(), lf.gate(), lf.up(), lf.down());
            for (int k = 0; k < qs.size(); k++) {
                GptqLinear g = (GptqLinear) qs.get(k);
                float[] ref = GptqDequant.dense(((DenseLinear) fs.get(k)).weight());
                float[] w = GptqDequant.weight(g);
                float[] offByOne = GptqDequant.weight(g, !spec.zeroPlusOne(), true);
                float[] noGIdx = GptqDequant.weight(g, spec.zeroPlusOne(), false);
                assertThat(w).hasSameSizeAs(ref);
                for (int i = 0; i < ref.length; i++) {
                    diff += Math.abs(w[i] - ref[i]);
                    mag += Math.abs(ref[i]);
                    wrongZero += Math.abs(offByOne[i] - ref[i]);
                    wrongOrder += Math.abs(noGIdx[i] - ref[i]);
                }
            }
            double rel = diff / mag;
            System.out.printf("%s: rel %.4f, zero without +1 %.4f, groups without g_idx %.4f%n", dir, rel,
                    wrongZero / mag, wrongOrder / mag);
            assertThat(rel).as("mean abs error relative to mean abs weight").isLessThan(bound);
            // the conventions matter: reading the zero point the other way is clearly worse
            assertThat(wrongZero / mag).isGreaterThan(rel * 1.5);
            if (spec.descAct()) assertThat(wrongOrder / mag).isGreaterThan(rel * 1.2);
        }
    }

    @Test
    void paddedMlpFeaturesDequantizeToZero() {
        try (LlamaCheckpoint c = open("stories260K-gptq-4bit-32g-actorder")) {
            GptqLinear gate = (GptqLinear) c.weights().layers().getFirst().gate();
            GptqLinear down = (GptqLinear) c.weights().layers().getFirst().down();
            float[] g = GptqDequant.weight(gate), d = GptqDequant.weight(down);
            for (int o = 172; o < 192; o++) for (int i = 0; i < 64; i++) assertThat(g[o * 64 + i]).isZero();
            for (int o = 0; o < 64; o++) for (int i = 172; i < 192; i++) assertThat(d[o * 192 + i]).isZero();
        }
    }

    @Test
    void legacyDirectoryWithoutSettingsSaysWhichOptionsToPass() {
        Path dir = SharedModels.require(LEGACY);
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage(LEGACY_FILE + ": GPTQ weights without quantize_config.json or quantization_config; pass"
                        + " --gptq-bits, --gptq-group-size and (if act-order) --gptq-act-order (the tensor shapes"
                        + " suggest bits 4, group size 32)");
    }

    @Test
    void legacyDirectoryWithOnlyBitsAsksForTheRest() {
        Path dir = SharedModels.require(LEGACY);
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir, new GptqOverrides(4, null, null)))
                .hasMessage(LEGACY_FILE + ": GPTQ weights without quantize_config.json or quantization_config; pass"
                        + " --gptq-group-size and (if act-order) --gptq-act-order (the tensor shapes suggest bits 4,"
                        + " group size 32)");
    }

    @Test
    void legacyDirectoryOpensWithoutAnActOrderAnswer() {
        try (LlamaCheckpoint c = LlamaCheckpoint.open(SharedModels.require(LEGACY), new GptqOverrides(4, 32, null))) {
            assertThat(c.gptqSpec()).contains(new GptqSpec(4, 32, false, true, true));
        }
    }

    @Test
    void wrongBitsAreAShapeErrorNamingTheSetting() {
        Path dir = SharedModels.require(LEGACY);
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir, new GptqOverrides(3, 32, false)))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage(LEGACY_FILE + ": tensor 'model.layers.0.self_attn.q_proj.qweight' has shape [8, 64],"
                        + " expected [6, 64] for bits 3 (--gptq-bits): in_features 64 · 3 / 32 = 6 rows,"
                        + " out_features 64; the shape fits bits 4");
    }

    @Test
    void wrongGroupSizeIsAShapeErrorNamingTheSetting() {
        Path dir = SharedModels.require(LEGACY);
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir, new GptqOverrides(4, 64, false)))
                .hasMessage(LEGACY_FILE + ": tensor 'model.layers.0.self_attn.q_proj.qzeros' has shape [2, 8],"
                        + " expected [1, 8] for group size 64 (--gptq-group-size): in_features 64 / 64 = 1 group,"
                        + " out_features 64 · 4 / 32 = 8 columns at bits 4 (--gptq-bits); the shape fits group size 32");
    }

    @Test
    void userSettingsOverrideTheConfigFileAndAreValidatedTheSameWay() {
        Path dir = SharedModels.require("stories260K-gptq-4bit-64g");
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir, new GptqOverrides(null, 32, null)))
                .hasMessageContaining("tensor 'model.layers.0.self_attn.q_proj.qzeros' has shape [1, 8], expected"
                        + " [2, 8] for group size 32 (--gptq-group-size)")
                .hasMessageEndingWith("the shape fits group size -1 (or 64)");
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir, new GptqOverrides(8, null, null)))
                .hasMessageContaining("for bits 8 (--gptq-bits)");
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir, new GptqOverrides(4, 64, true))) {
            // act-order on is consistent with a file whose g_idx is i / 64: exactly 64 features per group
            assertThat(c.gptqSpec()).contains(new GptqSpec(4, 64, true, true, true));
        }
    }

    @Test
    void actOrderFileReadWithoutActOrderIsRefused() {
        Path dir = SharedModels.require("stories260K-gptq-4bit-32g-actorder");
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir, new GptqOverrides(null, null, false)))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith("model.safetensors: tensor 'model.layers.0.self_attn.q_proj.g_idx' is not"
                        + " i / group_size (feature ")
                .hasMessageContaining("with act-order off (--gptq-act-order) and group size 32 (quantize_config.json)")
                .hasMessageEndingWith("the file was quantized with act-order: pass --gptq-act-order");
    }

    @Test
    void legacyActOrderSuggestionComesFromGIdx() throws Exception {
        Path src = SharedModels.require("stories260K-gptq-4bit-32g-actorder");
        Path dir = new GptqFixtureCopy(src).removeFile("quantize_config.json")
                .file("config.json", configWithout(src)).writeTo(tmp.resolve("legacy-actorder"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir))
                .hasMessageEndingWith("(the tensor shapes suggest bits 4, group size 32 and act-order)");
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir, new GptqOverrides(4, 32, true))) {
            assertThat(c.gptqSpec()).contains(new GptqSpec(4, 32, true, true, true));
        }
    }

    @Test
    void badUserValuesAreRefusedBeforeAnyTensorIsRead() {
        Path dir = SharedModels.require(LEGACY);
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir, new GptqOverrides(5, 32, false)))
                .hasMessage("--gptq-bits 5: must be 2, 3, 4 or 8, got 5");
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir, new GptqOverrides(4, 0, false)))
                .hasMessage("--gptq-group-size 0: must be -1 (no groups) or a positive number of input features, got 0");
    }

    @Test
    void gptqOptionsForADenseCheckpointAreAnError() {
        Path dir = SharedModels.require("stories260K-padded");
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir, new GptqOverrides(4, 32, null)))
                .hasMessage("model.safetensors: GPTQ options (--gptq-bits 4 --gptq-group-size 32) were given, but this"
                        + " checkpoint has dense weights (no *.qweight tensors)");
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir, GptqOverrides.NONE)) {
            assertThat(c.gptqSpec()).isEmpty();
            assertThat(c.weights().layers().getFirst().q()).isInstanceOf(DenseLinear.class);
        }
    }

    @TempDir
    Path tmp;

    static String configWithout(Path src) throws IOException {
        var root = (ObjectNode) JsonMapper.shared()
                .readTree(Files.readString(src.resolve("config.json")));
        root.remove("quantization_config");
        return root.toString();
    }
}
