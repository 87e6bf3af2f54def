package io.paddock.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.paddock.format.DType;
import io.paddock.model.DenseLinear;
import io.paddock.model.GptqLinear;
import io.paddock.model.GptqPacking;
import io.paddock.model.GptqSpec;
import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import io.paddock.model.LlamaCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class SyntheticCheckpointTests {
    @TempDir
    Path tmp;

    static Stream<Arguments> gptqVariants() {
        List<Arguments> all = new ArrayList<>();
        for (int bits : new int[] {2, 3, 4, 8}) {
            for (int group : new int[] {-1, 32, 64, 128}) {
                for (boolean act : new boolean[] {false, true}) all.add(Arguments.of(bits, group, act));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} bits, group {1}, act-order {2}")
    @MethodSource("gptqVariants")
    void tinyGptqCheckpointOpensWithItsSpec(int bits, int group, boolean actOrder) throws Exception {
        SyntheticSpec spec = SyntheticSpec.gptq(SyntheticShape.TINY, bits, group, actOrder).withSeed(bits * 31L + group);
        Path dir = SyntheticCheckpoint.write(spec, tmp.resolve("m"));
        for (String f : List.of("config.json", "quantize_config.json", "generation_config.json", "tokenizer.json",
                "tokenizer_config.json", "model.safetensors")) {
            assertThat(dir.resolve(f)).isRegularFile();
        }
        JsonNode q = JsonMapper.shared().readTree(Files.readString(dir.resolve("config.json"))).get("quantization_config");
        assertThat(q.get("quant_method").asString()).isEqualTo("gptq");
        assertThat(q.get("desc_act").asBoolean()).isEqualTo(actOrder);

        GptqSpec expected = new GptqSpec(bits, group, actOrder, true, true);
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir)) {
            assertThat(c.gptqSpec()).contains(expected);
            assertThat(c.store().metadata()).containsEntry("gptq_bits", Integer.toString(bits))
                    .containsEntry("gptq_group_size", Integer.toString(group));
            assertThat(c.weights().layers()).hasSize(2);
            for (LayerWeights l : c.weights().layers()) {
                for (Linear lin : List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down())) {
                    GptqLinear g = (GptqLinear) lin;
                    assertThat(g.spec()).isEqualTo(expected);
                    checkValues(g, bits, group, actOrder);
                }
            }
            assertThat(c.weights().lmHead()).isInstanceOf(DenseLinear.class);
            assertThat(c.weights().embedding().dtype()).isEqualTo(DType.F16);
        }
    }

    /** Symmetric zero points (2^(bits−1), stored minus one), positive scales, groups as act-order makes them. */
    private static void checkValues(GptqLinear g, int bits, int group, boolean actOrder) {
        int zCols = (int) g.qzeros().shape()[1];
        int groups = g.spec().groups(g.inFeatures());
        for (int r = 0; r < groups; r++) {
            for (int o = 0; o < g.outFeatures(); o += 7) {
                assertThat(GptqPacking.extract(g.qzeros().data(), (long) r * zCols, 1, bits, o) + 1)
                        .isEqualTo(1 << (bits - 1));
                assertThat(g.scales().getFloat((long) r * g.outFeatures() + o)).isPositive().isLessThan(0.1f);
            }
        }
        int[] perGroup = new int[groups];
        boolean monotonic = true;
        for (int i = 0; i < g.inFeatures(); i++) {
            perGroup[g.group(i)]++;
            if (group != -1 && g.group(i) != i / group) monotonic = false;
        }
        if (group != -1) {
            assertThat(perGroup).containsOnly(group);
            assertThat(monotonic).isEqualTo(!actOrder);
        }
    }

    @Test
    void codesAreUniform() {
        SyntheticSpec spec = SyntheticSpec.gptq(SyntheticShape.TINY, 3, 64, true);
        try (LlamaCheckpoint c = LlamaCheckpoint.open(SyntheticCheckpoint.write(spec, tmp.resolve("m")))) {
            GptqLinear up = (GptqLinear) c.weights().layers().getFirst().up();
            int[] counts = new int[8];
            int out = up.outFeatures();
            for (int i = 0; i < up.inFeatures(); i++) {
                for (int o = 0; o < out; o++) counts[GptqPacking.extract(up.qweight().data(), o, out, 3, i)]++;
            }
            double expected = (double) up.inFeatures() * out / 8;
            for (int n : counts) assertThat(Math.abs(n - expected) / expected).isLessThan(0.03);
        }
    }

    @Test
    void denseF16CheckpointOfTheSameShape() throws Exception {
        Path dir = SyntheticCheckpoint.write(SyntheticSpec.f16(SyntheticShape.TINY), tmp.resolve("f16"));
        assertThat(dir.resolve("quantize_config.json")).doesNotExist();
        try (LlamaCheckpoint c = LlamaCheckpoint.open(dir)) {
            assertThat(c.gptqSpec()).isEmpty();
            DenseLinear q = (DenseLinear) c.weights().layers().getFirst().q();
            assertThat(q.weight().dtype()).isEqualTo(DType.F16);
            assertThat(q.weight().shape()).containsExactly(256, 256);
            float[] w = q.weight().toFloatArray();
            double sq = 0;
            for (float v : w) sq += v * v;
            assertThat(Math.sqrt(sq / w.length)).isCloseTo(0.02, offset(0.002));
        }
    }

    @Test
    void llama7bShapesWithOneLayer() {
        SyntheticSpec spec = SyntheticSpec.gptq(SyntheticShape.LLAMA_7B, 4, 128, true).withLayers(1);
        Map<String, SyntheticTensor> t = SyntheticCheckpoint.tensors(spec).stream()
                .collect(Collectors.toMap(SyntheticTensor::name, Function.identity()));
        assertThat(t).hasSize(3 + 2 + 7 * 4);
        String a = "model.layers.0.self_attn.", m = "model.layers.0.mlp.";
        assertShape(t, "model.embed_tokens.weight", DType.F16, 32000, 4096);
        assertShape(t, "lm_head.weight", DType.F16, 32000, 4096);
        assertShape(t, "model.norm.weight", DType.F16, 4096);
        assertShape(t, "model.layers.0.input_layernorm.weight", DType.F16, 4096);
        for (String p : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
            assertShape(t, a + p + ".qweight", DType.I32, 512, 4096);
            assertShape(t, a + p + ".qzeros", DType.I32, 32, 512);
            assertShape(t, a + p + ".scales", DType.F16, 32, 4096);
            assertShape(t, a + p + ".g_idx", DType.I32, 4096);
        }
        for (String p : List.of("gate_proj", "up_proj")) {
            assertShape(t, m + p + ".qweight", DType.I32, 512, 11008);
            assertShape(t, m + p + ".qzeros", DType.I32, 32, 1376);
            assertShape(t, m + p + ".scales", DType.F16, 32, 11008);
        }
        assertShape(t, m + "down_proj.qweight", DType.I32, 1376, 4096);
        assertShape(t, m + "down_proj.qzeros", DType.I32, 86, 512);
        assertShape(t, m + "down_proj.scales", DType.F16, 86, 4096);
        assertShape(t, m + "down_proj.g_idx", DType.I32, 11008);

        // file order as the safetensors library writes it: I32 tensors first, then F16, each by name
        List<SyntheticTensor> order = SyntheticCheckpoint.tensors(spec);
        assertThat(order.getFirst().name()).isEqualTo(m + "down_proj.g_idx");
        assertThat(order.getLast().name()).isEqualTo("model.norm.weight");
    }

    @Test
    void fullCheckpointSizesMatchThePublishedFiles() {
        // TheBloke's LLaMA-7B 4-bit g128 model.safetensors is 3.9 GB; the others follow from the shapes
        assertThat(bytes(SyntheticSpec.gptq(SyntheticShape.LLAMA_7B, 4, 128, false))).isBetween(3.85e9, 3.95e9);
        assertThat(bytes(SyntheticSpec.f16(SyntheticShape.LLAMA_7B))).isBetween(13.4e9, 13.6e9);
        assertThat(bytes(SyntheticSpec.gptq(SyntheticShape.LLAMA_65B, 4, 128, true))).isBetween(33e9, 35e9);
        assertThat(bytes(SyntheticSpec.gptq(SyntheticShape.LLAMA_33B, 4, -1, false))).isBetween(16e9, 17.5e9);
    }

    private static double bytes(SyntheticSpec spec) {
        return SyntheticCheckpoint.tensors(spec).stream().mapToLong(SyntheticTensor::byteSize).sum();
    }

    private static void assertShape(Map<String, SyntheticTensor> t, String name, DType dtype, long... shape) {
        assertThat(t).containsKey(name);
        assertThat(t.get(name).dtype()).as(name).isEqualTo(dtype);
        assertThat(t.get(name).shape()).as(name).containsExactly(shape);
    }

    @Test
    void sameSeedSameBytesAndLayersDoNotShiftEachOther() throws Exception {
        SyntheticSpec spec = SyntheticSpec.gptq(SyntheticShape.TINY, 4, 32, true).withSeed(7);
        byte[] a = Files.readAllBytes(SyntheticCheckpoint.write(spec, tmp.resolve("a")).resolve("model.safetensors"));
        byte[] b = Files.readAllBytes(SyntheticCheckpoint.write(spec, tmp.resolve("b")).resolve("model.safetensors"));
        byte[] c = Files.readAllBytes(SyntheticCheckpoint.write(spec.withSeed(8), tmp.resolve("c"))
                .resolve("model.safetensors"));
        assertThat(a).isEqualTo(b);
        assertThat(Arrays.equals(a, c)).isFalse();
        try (LlamaCheckpoint two = LlamaCheckpoint.open(tmp.resolve("a"));
                LlamaCheckpoint one = LlamaCheckpoint.open(SyntheticCheckpoint.write(spec.withLayers(1), tmp.resolve("d")))) {
            GptqLinear x = (GptqLinear) two.weights().layers().getFirst().down();
            GptqLinear y = (GptqLinear) one.weights().layers().getFirst().down();
            assertThat(x.qweight().data().mismatch(y.qweight().data())).isEqualTo(-1);
            assertThat(x.gIdx().toIntArray()).isEqualTo(y.gIdx().toIntArray());
        }
    }
}
