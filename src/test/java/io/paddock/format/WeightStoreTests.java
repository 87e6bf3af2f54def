package io.paddock.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.paddock.testing.SharedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightStoreTests {

    private static final String Q0 = "model.layers.0.self_attn.q_proj.weight";

    @TempDir
    Path tmp;

    @Test
    void opensASingleModelSafetensors() {
        Path dir = SharedModels.require("stories260K");
        try (WeightStore store = WeightStore.open(dir)) {
            assertThat(store.files()).containsExactly(dir.resolve("model.safetensors"));
            assertThat(store.names()).hasSize(47).contains("model.embed_tokens.weight", "model.norm.weight");
            assertThat(store.contains("lm_head.weight")).isFalse();
            assertThat(store.metadata()).containsEntry("format", "pt");
            Tensor q = store.require(Q0, Set.of(DType.F32, DType.F16), 64, 64);
            assertThat(q.shape()).containsExactly(64, 64);
            assertThat(store.require("model.layers.4.mlp.down_proj.weight", Set.of(), 64, -1).shape())
                    .containsExactly(64, 172);
            assertThat(store.require("model.norm.weight", Set.of(DType.F32)).elementCount()).isEqualTo(64);
        }
    }

    @Test
    void opensTheOnlySafetensorsFileWhateverItsName() {
        Path dir = SharedModels.require("stories260K-gptq-legacy-4bit-32g");
        try (WeightStore store = WeightStore.open(dir)) {
            assertThat(store.files()).containsExactly(dir.resolve("stories260K-4bit-32g.safetensors"));
            assertThat(store.require("model.layers.0.self_attn.q_proj.qweight", Set.of(DType.I32), 8, 64).dtype())
                    .isEqualTo(DType.I32);
            assertThat(store.names()).contains("lm_head.weight");
        }
    }

    @Test
    void opensAShardedDirectoryThroughItsIndex() throws IOException {
        Path src = SharedModels.require("stories260K");
        Path dir = Files.createDirectory(tmp.resolve("sharded"));
        List<String> names;
        StringBuilder map = new StringBuilder();
        try (SafetensorsFile whole = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            names = new ArrayList<>(whole.tensors().keySet());
            SafetensorsWriter[] shards = {new SafetensorsWriter(), new SafetensorsWriter()};
            for (int i = 0; i < names.size(); i++) {
                Tensor t = whole.tensor(names.get(i));
                int s = i < names.size() / 2 ? 0 : 1;
                shards[s].metadata("format", "pt").add(t.name(), t.dtype(), t.shape(), t.data());
                map.append(map.isEmpty() ? "" : ",").append('"').append(t.name()).append("\":\"model-0000")
                        .append(s + 1).append("-of-00002.safetensors\"");
            }
            shards[0].write(dir.resolve("model-00001-of-00002.safetensors"));
            shards[1].write(dir.resolve("model-00002-of-00002.safetensors"));
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":1040128},\"weight_map\":{" + map + "}}");

        try (WeightStore sharded = WeightStore.open(dir);
                SafetensorsFile whole = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            assertThat(sharded.files()).containsExactly(dir.resolve("model-00001-of-00002.safetensors"),
                    dir.resolve("model-00002-of-00002.safetensors"));
            assertThat(sharded.names()).containsExactlyInAnyOrderElementsOf(names);
            for (String n : names) {
                assertThat(sharded.tensor(n).toFloatArray()).as(n).containsExactly(whole.tensor(n).toFloatArray());
            }
            assertThat(sharded.info(names.getLast()).file().getFileName().toString())
                    .isEqualTo("model-00002-of-00002.safetensors");
            assertThatThrownBy(() -> sharded.tensor("lm_head.weight"))
                    .isInstanceOf(ModelLoadException.class)
                    .hasMessage("model.safetensors.index.json: missing tensor 'lm_head.weight'");
        }
    }

    @Test
    void tensorsCanBeReadFromManyThreads() {
        Path dir = SharedModels.require("stories260K");
        try (WeightStore store = WeightStore.open(dir)) {
            Tensor embed = store.tensor("model.embed_tokens.weight");
            double serial = 0;
            for (int i = 0; i < 512 * 64; i++) serial += embed.getFloat(i);
            double parallel = IntStream.range(0, 512).parallel()
                    .mapToDouble(r -> {
                        double s = 0;
                        for (int c = 0; c < 64; c++) s += embed.getFloat(r * 64L + c);
                        return s;
                    })
                    .sum();
            assertThat(parallel).isCloseTo(serial, offset(1e-9));
        }
    }

    // ---- broken directories: each yields one ModelLoadException naming the file (and tensor) ----

    @Test
    void missingDirectory() {
        Path dir = tmp.resolve("nope");
        assertThatThrownBy(() -> WeightStore.open(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("model directory " + dir + " does not exist or is not a directory");
    }

    @Test
    void directoryWithoutWeights() throws IOException {
        Files.writeString(tmp.resolve("config.json"), "{}");
        assertThatThrownBy(() -> WeightStore.open(tmp))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("no weights file (expected model.safetensors, model.safetensors.index.json or "
                        + "one *.safetensors file)");
    }

    @Test
    void severalUnindexedCandidatesAreListed() throws IOException {
        Path fixture = SharedModels.require("stories260K-gptq-legacy-4bit-32g/stories260K-4bit-32g.safetensors");
        Files.copy(fixture, tmp.resolve("b-4bit.safetensors"));
        Files.copy(fixture, tmp.resolve("a-4bit.safetensors"));
        assertThatThrownBy(() -> WeightStore.open(tmp))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("2 *.safetensors files and no model.safetensors.index.json")
                .hasMessageContaining("[a-4bit.safetensors, b-4bit.safetensors]");
    }

    @Test
    void modelSafetensorsWinsOverOtherCandidates() throws IOException {
        Path fixture = SharedModels.require("stories260K/model.safetensors");
        Files.copy(fixture, tmp.resolve("model.safetensors"));
        Files.copy(fixture, tmp.resolve("consolidated.safetensors"));
        try (WeightStore store = WeightStore.open(tmp)) {
            assertThat(store.files()).containsExactly(tmp.resolve("model.safetensors"));
        }
    }

    @Test
    void missingTensor() {
        try (WeightStore store = WeightStore.open(SharedModels.require("stories260K"))) {
            assertThatThrownBy(() -> store.require("lm_head.weight", Set.of(DType.F32), 512, 64))
                    .isInstanceOf(ModelLoadException.class)
                    .hasMessage("model.safetensors: missing tensor 'lm_head.weight'");
        }
    }

    @Test
    void wrongShape() throws IOException {
        Path dir = copyWithReplacement(Q0, DType.F32, new long[] {64, 32});
        try (WeightStore store = WeightStore.open(dir)) {
            assertThatThrownBy(() -> store.require(Q0, Set.of(DType.F32, DType.F16), 64, 64))
                    .isInstanceOf(ModelLoadException.class)
                    .hasMessage("model.safetensors: tensor '" + Q0 + "' has shape [64, 32], expected [64, 64]");
            assertThatThrownBy(() -> store.require(Q0, Set.of(), 64, 32, 1))
                    .hasMessage("model.safetensors: tensor '" + Q0 + "' has shape [64, 32], expected [64, 32, 1]");
            assertThatThrownBy(() -> store.require(Q0, Set.of(), -1, 64))
                    .hasMessage("model.safetensors: tensor '" + Q0 + "' has shape [64, 32], expected [*, 64]");
        }
    }

    @Test
    void wrongDtype() throws IOException {
        Path dir = copyWithReplacement(Q0, DType.I32, new long[] {64, 64});
        try (WeightStore store = WeightStore.open(dir)) {
            assertThatThrownBy(() -> store.require(Q0, Set.of(DType.F32), 64, 64))
                    .isInstanceOf(ModelLoadException.class)
                    .hasMessage("model.safetensors: tensor '" + Q0 + "' has dtype I32, expected F32");
            assertThatThrownBy(() -> store.require(Q0, Set.of(DType.F32, DType.BF16, DType.F16), 64, 64))
                    .hasMessage("model.safetensors: tensor '" + Q0 + "' has dtype I32, expected one of [F32, F16, BF16]");
        }
    }

    @Test
    void truncatedWeightsFile() throws IOException {
        byte[] all = Files.readAllBytes(SharedModels.require("stories260K/model.safetensors"));
        Files.write(tmp.resolve("model.safetensors"), Arrays.copyOf(all, all.length / 2));
        assertThatThrownBy(() -> WeightStore.open(tmp))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith("model.safetensors: tensor 'model.layers.")
                .hasMessageContaining("reach beyond the")
                .hasMessageContaining("(file truncated?)");
    }

    @Test
    void corruptHeader() throws IOException {
        byte[] all = Files.readAllBytes(SharedModels.require("stories260K/model.safetensors"));
        all[8] = '#'; // the header no longer starts a JSON object
        Files.write(tmp.resolve("model.safetensors"), all);
        assertThatThrownBy(() -> WeightStore.open(tmp))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith("model.safetensors: corrupt safetensors header: invalid JSON");
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        Files.writeString(tmp.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"model.norm.weight\":\"model-00001-of-00001.safetensors\"}}");
        assertThatThrownBy(() -> WeightStore.open(tmp))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("model.safetensors.index.json: shard 'model-00001-of-00001.safetensors' for tensor "
                        + "'model.norm.weight' not found");
    }

    @Test
    void indexNamingATensorItsShardLacks() throws IOException {
        Files.copy(SharedModels.require("stories260K/model.safetensors"), tmp.resolve("part1.safetensors"));
        Files.writeString(tmp.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"model.norm.weight\":\"part1.safetensors\",\"lm_head.weight\":\"part1.safetensors\"}}");
        assertThatThrownBy(() -> WeightStore.open(tmp))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("model.safetensors.index.json: tensor 'lm_head.weight' is mapped to part1.safetensors, "
                        + "which does not contain it");
    }

    @Test
    void indexEscapingTheDirectoryOrMalformed() throws IOException {
        Path index = tmp.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\":{\"w\":\"../elsewhere.safetensors\"}}");
        assertThatThrownBy(() -> WeightStore.open(tmp))
                .hasMessageContaining("shard '../elsewhere.safetensors' for tensor 'w' is not a file in the model directory");
        Files.writeString(index, "{\"weight_map\":");
        assertThatThrownBy(() -> WeightStore.open(tmp))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith("model.safetensors.index.json: invalid JSON");
        Files.writeString(index, "{\"metadata\":{}}");
        assertThatThrownBy(() -> WeightStore.open(tmp))
                .hasMessage("model.safetensors.index.json: missing or empty 'weight_map'");
    }

    @Test
    void closeUnmapsAndIsIdempotent() {
        WeightStore store = WeightStore.open(SharedModels.require("stories260K"));
        Tensor t = store.tensor("model.norm.weight");
        assertThat(t.getFloat(0)).isFinite();
        store.close();
        store.close();
        assertThatThrownBy(() -> t.getFloat(0)).isInstanceOf(IllegalStateException.class);
    }

    /** stories260K with one tensor swapped for zeros of another dtype/shape, in tmp/model.safetensors. */
    private Path copyWithReplacement(String name, DType dtype, long[] shape) {
        Path src = SharedModels.require("stories260K/model.safetensors");
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (SafetensorsFile whole = SafetensorsFile.open(src)) {
            for (String n : whole.tensors().keySet()) {
                Tensor t = whole.tensor(n);
                if (n.equals(name)) {
                    long bytes = dtype.byteSize();
                    for (long d : shape) bytes *= d;
                    w.add(n, dtype, shape, new byte[(int) bytes]);
                } else {
                    w.add(n, t.dtype(), t.shape(), t.data());
                }
            }
            w.write(tmp.resolve("model.safetensors"));
        }
        return tmp;
    }
}
