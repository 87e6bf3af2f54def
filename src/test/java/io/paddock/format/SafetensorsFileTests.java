package io.paddock.format;

import static io.paddock.format.SafetensorsTestFiles.floatsAt;
import static io.paddock.format.SafetensorsTestFiles.raw;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.testing.SharedModels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTests {

    // llama2.c legacy checkpoint: 7 int32 header fields, then float32 tables in a fixed order
    private static final int DIM = 64, HIDDEN = 172, LAYERS = 5, KV_DIM = 32, VOCAB = 512;
    private static final long EMBED_AT = 28;
    private static final long RMS_ATT_AT = EMBED_AT + 4L * VOCAB * DIM;
    private static final long WQ_AT = RMS_ATT_AT + 4L * LAYERS * DIM;
    private static final long WV_AT = WQ_AT + 4L * LAYERS * DIM * DIM + 4L * LAYERS * KV_DIM * DIM;
    private static final long W1_AT = WV_AT + 4L * LAYERS * KV_DIM * DIM + 4L * LAYERS * DIM * DIM + 4L * LAYERS * DIM;
    private static final long RMS_FINAL_AT = W1_AT + 3L * 4 * LAYERS * HIDDEN * DIM;

    @TempDir
    Path tmp;

    @Test
    void readsTheFloat32FixtureExactlyAsTheLlama2cCheckpointHoldsIt() throws IOException {
        Path dir = SharedModels.require("stories260K");
        Path bin = SharedModels.require("source/stories260K.bin");
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            assertThat(f.tensors()).hasSize(2 + 9 * LAYERS);
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.dataStart()).isEqualTo(8 + 4856);

            Tensor embed = f.tensor("model.embed_tokens.weight");
            assertThat(embed.dtype()).isEqualTo(DType.F32);
            assertThat(embed.shape()).containsExactly(VOCAB, DIM);
            assertThat(embed.data().byteSize()).isEqualTo(4L * VOCAB * DIM);
            assertThat(embed.toFloatArray()).containsExactly(floatsAt(bin, EMBED_AT, VOCAB * DIM));

            assertThat(f.tensor("model.layers.0.input_layernorm.weight").toFloatArray())
                    .containsExactly(floatsAt(bin, RMS_ATT_AT, DIM));
            // v_proj and gate_proj are stored unpermuted (only q/k rows are reordered for rotate_half RoPE)
            assertThat(f.tensor("model.layers.0.self_attn.v_proj.weight").toFloatArray())
                    .containsExactly(floatsAt(bin, WV_AT, KV_DIM * DIM));
            assertThat(f.tensor("model.layers.0.mlp.gate_proj.weight").toFloatArray())
                    .containsExactly(floatsAt(bin, W1_AT, HIDDEN * DIM));
            assertThat(f.tensor("model.norm.weight").toFloatArray()).containsExactly(floatsAt(bin, RMS_FINAL_AT, DIM));
        }
    }

    @Test
    void readsTheFloat16FixtureAsTheFloat32ValuesRoundedToHalf() throws IOException {
        Path dir = SharedModels.require("stories260K-f16");
        float[] expected = floatsAt(SharedModels.require("source/stories260K.bin"), EMBED_AT, VOCAB * DIM);
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            Tensor embed = f.tensor("model.embed_tokens.weight");
            assertThat(embed.dtype()).isEqualTo(DType.F16);
            for (int i = 0; i < expected.length; i++) {
                // tolerance 0: torch's cast and the JDK's both round to nearest even
                assertThat(embed.getFloat(i)).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(expected[i])));
            }
        }
    }

    @Test
    void readsGptqIntegerTensorsAndMetadata() {
        Path dir = SharedModels.require("stories260K-gptq-4bit-32g-actorder");
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            assertThat(f.metadata()).containsEntry("gptq_bits", "4").containsEntry("gptq_group_size", "32");
            Tensor gIdx = f.tensor("model.layers.0.mlp.down_proj.g_idx");
            assertThat(gIdx.dtype()).isEqualTo(DType.I32);
            assertThat(gIdx.shape()).containsExactly(192);
            // act-order: every group 0..5 holds exactly 32 input features
            int[] counts = new int[6];
            for (int g : gIdx.toIntArray()) counts[g]++;
            assertThat(counts).containsOnly(32);
            assertThat(f.tensor("model.layers.0.mlp.down_proj.scales").dtype()).isEqualTo(DType.F16);
        }
    }

    @Test
    void tensorsBecomeUnreadableAfterCloseAndCloseIsIdempotent() {
        Path dir = SharedModels.require("stories260K");
        SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"));
        Tensor t = f.tensor("model.norm.weight");
        f.close();
        f.close();
        assertThatThrownBy(() -> t.getFloat(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void unknownTensorNamesTheFileAndTensor() {
        Path dir = SharedModels.require("stories260K");
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            assertThatThrownBy(() -> f.tensor("lm_head.weight"))
                    .isInstanceOf(ModelLoadException.class)
                    .hasMessage("model.safetensors: no tensor 'lm_head.weight'");
        }
    }

    @Test
    void truncatedFixtureIsRejectedNamingTheTensorBeyondTheEnd() throws IOException {
        Path src = SharedModels.require("stories260K").resolve("model.safetensors");
        byte[] all = Files.readAllBytes(src);
        Path cut = tmp.resolve("model.safetensors");
        Files.write(cut, Arrays.copyOf(all, all.length - 100));
        assertThatThrownBy(() -> SafetensorsFile.open(cut))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith("model.safetensors: tensor '")
                .hasMessageContaining("truncated");
    }

    @Test
    void fileCutInsideTheHeaderIsRejected() throws IOException {
        Path src = SharedModels.require("stories260K").resolve("model.safetensors");
        Path cut = tmp.resolve("model.safetensors");
        Files.write(cut, Arrays.copyOf(Files.readAllBytes(src), 1000));
        assertThatThrownBy(() -> SafetensorsFile.open(cut))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("model.safetensors: header length 4856 exceeds the 1000-byte file (file truncated?)");
    }

    @Test
    void tinyOrEmptyFileIsRejected() throws IOException {
        Path f = Files.write(tmp.resolve("x.safetensors"), new byte[3]);
        assertThatThrownBy(() -> SafetensorsFile.open(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("x.safetensors: 3 bytes is too small");
    }

    @Test
    void missingFileIsNamed() {
        assertThatThrownBy(() -> SafetensorsFile.open(tmp.resolve("absent.safetensors")))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith("absent.safetensors: file not found");
    }

    @Test
    void insaneHeaderLengthIsRejected() throws IOException {
        byte[] bytes = new byte[64];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(-5);
        Path f = Files.write(tmp.resolve("m.safetensors"), bytes);
        assertThatThrownBy(() -> SafetensorsFile.open(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("m.safetensors: corrupt safetensors header: header length -5");
    }

    @Test
    void corruptJsonIsRejected() throws IOException {
        Path f = raw(tmp.resolve("m.safetensors"), "{\"a\": {\"dtype\": \"F32\",", 0);
        assertThatThrownBy(() -> SafetensorsFile.open(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith("m.safetensors: corrupt safetensors header: invalid JSON");
        Path g = raw(tmp.resolve("n.safetensors"), "[1, 2]", 0);
        assertThatThrownBy(() -> SafetensorsFile.open(g))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("n.safetensors: corrupt safetensors header: expected a JSON object");
    }

    @Test
    void duplicateTensorNamesAreRejected() throws IOException {
        Path f = raw(tmp.resolve("m.safetensors"), """
                {"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}
                """, 2);
        assertThatThrownBy(() -> SafetensorsFile.open(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("invalid JSON")
                .hasMessageContaining("Duplicate Object property \"a\"");
    }

    @Test
    void byteLengthMustMatchShapeTimesDtype() throws IOException {
        Path f = raw(tmp.resolve("m.safetensors"), """
                {"w":{"dtype":"F16","shape":[2,3],"data_offsets":[0,24]}}""", 24);
        assertThatThrownBy(() -> SafetensorsFile.open(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("m.safetensors: tensor 'w': data_offsets [0, 24) span 24 bytes, but shape [2, 3] of F16 needs 12");
    }

    @Test
    void offsetsBeyondTheFileAreRejected() throws IOException {
        Path f = raw(tmp.resolve("m.safetensors"), """
                {"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8);
        assertThatThrownBy(() -> SafetensorsFile.open(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("m.safetensors: tensor 'w': data_offsets [0, 16) reach beyond the 8-byte data section "
                        + "(file truncated?)");
    }

    @Test
    void overlappingTensorsAreRejected() throws IOException {
        Path f = raw(tmp.resolve("m.safetensors"), """
                {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                 "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12);
        assertThatThrownBy(() -> SafetensorsFile.open(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("m.safetensors: tensor 'b' overlaps tensor 'a' in the data section");
    }

    @Test
    void malformedEntriesAreRejectedNamingTheTensor() throws IOException {
        String[][] cases = {
            {"{\"w\":{\"dtype\":\"F8_E5M2\",\"shape\":[1],\"data_offsets\":[0,1]}}", "tensor 'w': unsupported dtype 'F8_E5M2'"},
            {"{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", "tensor 'w': missing or non-string 'dtype'"},
            {"{\"w\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", "tensor 'w': 'shape' must hold non-negative integers"},
            {"{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", "tensor 'w': 'data_offsets' must have 2 elements"},
            {"{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,0]}}", "end before begin"},
            {"{\"w\":[1]}", "tensor 'w': header entry must be an object"},
            {"{\"__metadata__\":{\"n\":1}}", "__metadata__ value 'n' must be a string"},
        };
        for (String[] c : cases) {
            Path f = raw(tmp.resolve("m.safetensors"), c[0], 8);
            assertThatThrownBy(() -> SafetensorsFile.open(f))
                    .as(c[0])
                    .isInstanceOf(ModelLoadException.class)
                    .hasMessageStartingWith("m.safetensors: ")
                    .hasMessageContaining(c[1]);
        }
    }

    @Test
    void emptyTensorsAndScalarsAreAllowed() throws IOException {
        Path f = raw(tmp.resolve("m.safetensors"), """
                {"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},
                 "s":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}""", 8);
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            assertThat(sf.tensor("e").elementCount()).isZero();
            assertThat(sf.tensor("s").elementCount()).isEqualTo(1);
            assertThat(sf.tensor("s").getInt(0)).isZero();
            assertThat(sf.metadata()).isEmpty();
        }
    }
}
