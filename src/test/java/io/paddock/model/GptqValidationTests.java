package io.paddock.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.format.DType;
import io.paddock.format.ModelLoadException;
import io.paddock.testing.SharedModels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken or unusual GPTQ checkpoints, made by editing copies of the real fixtures. */
class GptqValidationTests {
    static final String Q = "model.layers.0.self_attn.q_proj";

    @TempDir
    Path tmp;

    GptqFixtureCopy copyOf(String fixture) {
        return new GptqFixtureCopy(SharedModels.require(fixture));
    }

    @Test
    void scalesMustBeF16() throws Exception {
        Path dir = copyOf("stories260K-gptq-4bit-64g")
                .replace(Q + ".scales", DType.F32, new long[] {1, 64}, new byte[64 * 4]).writeTo(tmp.resolve("d"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir)).isInstanceOf(ModelLoadException.class)
                .hasMessage("model.safetensors: tensor '" + Q + ".scales' has dtype F32, expected F16");
    }

    @Test
    void packedTensorsMustBeI32() throws Exception {
        Path dir = copyOf("stories260K-gptq-4bit-64g")
                .replace(Q + ".qweight", DType.F32, new long[] {8, 64}, new byte[8 * 64 * 4]).writeTo(tmp.resolve("d"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir))
                .hasMessage("model.safetensors: tensor '" + Q + ".qweight' has dtype F32, expected I32");
    }

    @Test
    void groupIndexOutOfRangeIsRefused() throws Exception {
        int[] g = new int[64];
        for (int i = 0; i < 64; i++) g[i] = i / 32;
        g[40] = 7;
        Path dir = copyOf("stories260K-gptq-4bit-32g-actorder").replaceInts(Q + ".g_idx", new long[] {64}, g)
                .writeTo(tmp.resolve("d"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir))
                .hasMessage("model.safetensors: tensor '" + Q + ".g_idx': feature 40 is in group 7, outside [0, 2)"
                        + " for group size 32 (quantize_config.json)");
    }

    @Test
    void actOrderGroupsMustHoldExactlyGroupSizeFeatures() throws Exception {
        int[] g = new int[64];
        for (int i = 0; i < 64; i++) g[i] = (i * 7) % 64 < 33 ? 0 : 1; // 33 in group 0, 31 in group 1
        Path dir = copyOf("stories260K-gptq-4bit-32g-actorder").replaceInts(Q + ".g_idx", new long[] {64}, g)
                .writeTo(tmp.resolve("d"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir))
                .hasMessage("model.safetensors: tensor '" + Q + ".g_idx': group 0 has 33 input features, expected 32"
                        + " for group size 32 (quantize_config.json) with act-order on (quantize_config.json)");
    }

    @Test
    void groupIndexOfTheWrongLengthIsAShapeError() throws Exception {
        Path dir = copyOf("stories260K-gptq-4bit-64g").replaceInts(Q + ".g_idx", new long[] {32}, new int[32])
                .writeTo(tmp.resolve("d"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir))
                .hasMessage("model.safetensors: tensor '" + Q + ".g_idx' has shape [32], expected [64] for one group"
                        + " index per input feature (in_features 64)");
    }

    @Test
    void missingGroupIndexMeansIOverGroupSize() throws Exception {
        Path dir = copyOf("stories260K-gptq-4bit-64g").drop(Q + ".g_idx").writeTo(tmp.resolve("d"));
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir)) {
            GptqLinear q = (GptqLinear) c.weights().layers().getFirst().q();
            assertThat(q.gIdx()).isNull();
            assertThat(q.group(63)).isZero();
            assertThat(((GptqLinear) c.weights().layers().getFirst().k()).gIdx()).isNotNull();
        }
    }

    @Test
    void optionalBiasIsF16OfOutFeatures() throws Exception {
        Path ok = copyOf("stories260K-gptq-4bit-64g").replace(Q + ".bias", DType.F16, new long[] {64}, new byte[128])
                .writeTo(tmp.resolve("ok"));
        try (LlamaCheckpoint c = LlamaCheckpoint.open(ok)) {
            assertThat(((GptqLinear) c.weights().layers().getFirst().q()).bias()).isNotNull();
        }
        Path bad = copyOf("stories260K-gptq-4bit-64g").replace(Q + ".bias", DType.F16, new long[] {32}, new byte[64])
                .writeTo(tmp.resolve("bad"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(bad))
                .hasMessage("model.safetensors: tensor '" + Q + ".bias' has shape [32], expected [64] for"
                        + " out_features 64");
    }

    @Test
    void mixedDenseAndGptqLayersAreRefused() throws Exception {
        String up = "model.layers.3.mlp.up_proj";
        Path dir = copyOf("stories260K-gptq-4bit-64g").drop(up + ".qweight").drop(up + ".qzeros").drop(up + ".scales")
                .drop(up + ".g_idx").replace(up + ".weight", DType.F16, new long[] {192, 64}, new byte[192 * 64 * 2])
                .writeTo(tmp.resolve("d"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(dir))
                .hasMessage("model.safetensors: tensor '" + up + ".weight' is dense (F16) in a GPTQ checkpoint;"
                        + " mixed dense and GPTQ linear layers are not supported");
    }

    @Test
    void checkpointFormatV2StoresTheRealZeroPoint() throws Exception {
        Path dir = copyOf("stories260K-gptq-4bit-64g").file("quantize_config.json",
                "{\"bits\": 4, \"group_size\": 64, \"desc_act\": false, \"sym\": true, \"checkpoint_format\": \"gptq_v2\"}")
                .writeTo(tmp.resolve("d"));
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir)) {
            assertThat(c.gptqSpec()).contains(new GptqSpec(4, 64, false, true, false));
        }
    }

    @Test
    void unsupportedLayoutsAndMethodsAreNamed() throws Exception {
        Path marlin = copyOf("stories260K-gptq-4bit-64g").file("quantize_config.json",
                "{\"bits\": 4, \"group_size\": 64, \"checkpoint_format\": \"marlin\"}").writeTo(tmp.resolve("m"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(marlin)).hasMessage("quantize_config.json: field"
                + " 'checkpoint_format' is \"marlin\"; paddock loads only \"gptq\" and \"gptq_v2\"");

        Path src = SharedModels.require("stories260K-gptq-4bit-64g");
        String awqConfig = GptqCheckpointTests.configWithout(src).replaceFirst("\\{",
                "{\"quantization_config\": {\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 64},");
        Path awq = copyOf("stories260K-gptq-4bit-64g").removeFile("quantize_config.json").file("config.json", awqConfig)
                .writeTo(tmp.resolve("a"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(awq)).hasMessage("config.json quantization_config: field"
                + " 'quant_method' is \"awq\"; paddock loads only GPTQ (\"gptq\") quantized models");
    }

    @Test
    void settingsFromConfigJsonAloneAreUsed() throws Exception {
        Path dir = copyOf("stories260K-gptq-3bit-32g-actorder").removeFile("quantize_config.json")
                .writeTo(tmp.resolve("d"));
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir)) {
            assertThat(c.gptqSpec()).contains(new GptqSpec(3, 32, true, true, true));
        }
        Path noBits = copyOf("stories260K-gptq-4bit-64g").file("quantize_config.json", "{\"group_size\": 64}")
                .writeTo(tmp.resolve("nb"));
        assertThatThrownBy(() -> LlamaCheckpoint.open(noBits))
                .hasMessage("quantize_config.json: missing field 'bits'; fix the file or pass --gptq-bits");
        try (LlamaCheckpoint c = LlamaCheckpoint.open(noBits, new GptqOverrides(4, null, null))) {
            assertThat(c.gptqSpec()).contains(new GptqSpec(4, 64, false, true, true));
        }
    }
}
