package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.format.DType;
import io.paddock.format.Tensor;
import io.paddock.format.WeightStore;
import io.paddock.model.GptqLinear;
import io.paddock.model.GptqSpec;
import io.paddock.testing.SharedModels;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Parity of {@link GptqMatMul} with {@link GptqReference#matmul} (double accumulation).
 *
 * <p>Tolerance, per output: |y − ref| ≤ 1e-4 · (Σ_i |x_i · w_io| + |bias_o|) + 1e-6 · Σ_i |x_i · s_io · q_io|.
 * The kernel sums x·q in fp32 over a group with the codes not centred, then subtracts z·Σx and scales per group;
 * a bound relative to Σ|x·w| stays meaningful under cancellation where one relative to |ref| would not. The
 * second term covers outputs whose weights are all zero (q = z, the padded MLP features of the fixtures): there
 * the two sums cancel only to within fp32 rounding of their own size (measured ~1e-7 of Σ|x·s·q|), not to 0.
 */
class GptqMatMulTests {
    private static final double TOL = 1e-4;
    private static final double FLOOR = 1e-6;
    private static final String[] PROJ = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

    static float[] activations(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextDouble(-2, 2);
        return x;
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 8})
    void matchesReferenceAcrossGroupsActOrderBatchesThreadsAndOddOutSizes(int bits) {
        SplittableRandom rnd = new SplittableRandom(bits);
        int[] outs = {1, 16, 37, 71, 130};
        int[][] groupAndIn = {{32, 96}, {64, 256}, {128, 256}, {-1, 160}};
        for (int threads = 1; threads <= 3; threads++) {
            try (Parallel p = new Parallel(threads)) {
                for (int[] gi : groupAndIn) {
                    for (boolean act : new boolean[] {false, true}) {
                        int out = outs[rnd.nextInt(outs.length)];
                        var l = GptqReferenceTests.randomLayer(rnd, bits, gi[1], out, gi[0], act, rnd.nextBoolean(),
                                rnd.nextBoolean(), !act && rnd.nextBoolean());
                        try (GptqMatrix m = GptqMatrix.prepare(l.linear())) {
                            assertThat(m.rows()).isEqualTo(out);
                            assertThat(m.cols()).isEqualTo(gi[1]);
                            for (int batch = 1; batch <= 9; batch++) check(p, l.linear(), m, batch, rnd);
                        }
                    }
                }
            }
        }
    }

    @Test
    void everyOutSizeFromOneToFortyNine() {
        SplittableRandom rnd = new SplittableRandom(11);
        try (Parallel p = new Parallel(2)) {
            for (int out = 1; out < 50; out++) {
                var l = GptqReferenceTests.randomLayer(rnd, 4, 64, out, 32, true, true, false, false);
                try (GptqMatrix m = GptqMatrix.prepare(l.linear())) {
                    check(p, l.linear(), m, 1, rnd);
                    check(p, l.linear(), m, 5, rnd);
                }
            }
        }
    }

    /** Groups of uneven size (a g_idx no real checkpoint has): padding to whole units keeps it exact. */
    @Test
    void unevenGroupsArePadded() {
        SplittableRandom rnd = new SplittableRandom(5);
        var l = GptqReferenceTests.randomLayer(rnd, 3, 128, 40, 32, false, true, false, false);
        int[] g = new int[128];
        for (int i = 0; i < 128; i++) g[i] = i < 5 ? 3 : i % 3;   // group sizes 43, 41, 41, 5 (and none empty)
        GptqLinear uneven = new GptqLinear("uneven", new GptqSpec(3, 32, true, true, true), 128, 40, l.linear().qweight(),
                l.linear().qzeros(), l.linear().scales(), GptqReferenceTests.tensor("g", DType.I32,
                MemorySegment.ofArray(g), 128), null);
        try (Parallel p = new Parallel(2); GptqMatrix m = GptqMatrix.prepare(uneven)) {
            for (int batch = 1; batch <= 6; batch++) check(p, uneven, m, batch, rnd);
        }
    }

    @Test
    void rejectsShortArraysAndOutOfRangeGroups() {
        var l = GptqReferenceTests.randomLayer(new SplittableRandom(1), 4, 64, 16, 32, false, true, false, false);
        try (Parallel p = new Parallel(1); GptqMatrix m = GptqMatrix.prepare(l.linear())) {
            assertThatThrownBy(() -> GptqMatMul.matmul(p, m, new float[127], 0, new float[32], 0, 2))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> GptqMatMul.matmul(p, m, new float[128], 0, new float[31], 0, 2))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
        int[] g = new int[64];
        g[7] = 2;   // only groups 0 and 1 exist
        GptqLinear bad = new GptqLinear("bad", new GptqSpec(4, 32, true, true, true), 64, 16, l.linear().qweight(),
                l.linear().qzeros(), l.linear().scales(), GptqReferenceTests.tensor("g", DType.I32,
                MemorySegment.ofArray(g), 64), null);
        assertThatThrownBy(() -> GptqMatrix.prepare(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("g_idx[7] = 2");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"stories260K-gptq-4bit-32g-actorder", "stories260K-gptq-4bit-nogroup", "stories260K-gptq-4bit-64g",
        "stories260K-gptq-3bit-32g-actorder", "stories260K-gptq-8bit-nogroup", "stories260K-gptq-2bit-32g",
        "stories260K-gptq-legacy-4bit-32g"})
    void everyRealLayerMatchesTheReferenceAndPaddingIsZero(String dirName) throws Exception {
        Path dir = SharedModels.require(dirName);
        GptqSpec spec = spec(dir);
        SplittableRandom rnd = new SplittableRandom(dirName.hashCode());
        int layers = 0;
        try (WeightStore ws = WeightStore.open(dir); Parallel p = new Parallel(2)) {
            for (int n = 0; ws.contains("model.layers." + n + ".self_attn.q_proj.qweight"); n++) {
                for (String proj : PROJ) {
                    GptqLinear l = layer(ws, "model.layers." + n + "." + proj, spec);
                    try (GptqMatrix m = GptqMatrix.prepare(l)) {
                        for (int batch : new int[] {1, 3, 4, 6}) check(p, l, m, batch, rnd);
                    }
                    float[] w = GptqReference.dequantize(l);
                    int in = l.inFeatures(), out = l.outFeatures();
                    if (proj.equals("mlp.down_proj")) {
                        assertThat(in).isEqualTo(192);
                        for (int i = 172; i < 192; i++) for (int o = 0; o < out; o++) assertThat(w[i * out + o]).isZero();
                    } else if (proj.startsWith("mlp.")) {
                        assertThat(out).isEqualTo(192);
                        for (int i = 0; i < in; i++) for (int o = 172; o < 192; o++) assertThat(w[i * out + o]).isZero();
                    }
                    layers++;
                }
            }
        }
        assertThat(layers).isEqualTo(35);
    }

    /** bits / group_size / desc_act from quantize_config.json; the legacy directory has none (4 bits, group 32). */
    static GptqSpec spec(Path dir) throws Exception {
        Path qc = dir.resolve("quantize_config.json");
        if (!Files.exists(qc)) return new GptqSpec(4, 32, false, true, true);
        JsonNode n = JsonMapper.builder().build().readTree(Files.readString(qc));
        return new GptqSpec(n.get("bits").asInt(), n.get("group_size").asInt(), n.get("desc_act").asBoolean(),
                n.get("sym").asBoolean(), true);
    }

    static GptqLinear layer(WeightStore ws, String name, GptqSpec spec) {
        Tensor qweight = ws.tensor(name + ".qweight");
        Tensor gIdx = ws.contains(name + ".g_idx") ? ws.tensor(name + ".g_idx") : null;
        int out = (int) qweight.info().dim(1);
        int in = (int) (qweight.info().dim(0) * 32 / spec.bits());
        return new GptqLinear(name, spec, in, out, qweight, ws.tensor(name + ".qzeros"), ws.tensor(name + ".scales"), gIdx, null);
    }

    private static void check(Parallel p, GptqLinear l, GptqMatrix m, int batch, SplittableRandom rnd) {
        int in = l.inFeatures(), out = l.outFeatures();
        float[] x = activations(rnd, batch * in + 2);
        float[] y = new float[batch * out + 3];
        float[] ref = new float[batch * out];
        GptqMatMul.matmul(p, m, x, 2, y, 3, batch);
        GptqReference.matmul(l, x, 2, ref, 0, batch);
        float[] w = GptqReference.dequantize(l);
        float[] sq = new float[in * out];   // (in, out) s·q: what the kernel actually accumulates, before the zero term
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) sq[i * out + o] = GptqReference.scale(l, l.group(i), o) * GptqReference.code(l, i, o);
        }
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < out; o++) {
                double abs = Math.abs(GptqReference.bias(l, o)), absSq = 0;
                for (int i = 0; i < in; i++) {
                    abs += Math.abs((double) x[2 + b * in + i] * w[i * out + o]);
                    absSq += Math.abs((double) x[2 + b * in + i] * sq[i * out + o]);
                }
                double err = Math.abs((double) y[3 + b * out + o] - ref[b * out + o]);
                assertThat(err).as("%s batch %d/%d output %d: %s vs %s", l.name(), b, batch, o, y[3 + b * out + o],
                        ref[b * out + o]).isLessThanOrEqualTo(TOL * abs + FLOOR * absSq + 1e-30);
            }
        }
    }
}
