package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.format.LittleEndian;
import io.paddock.model.GptqLinear;
import io.paddock.model.GptqOverrides;
import io.paddock.model.GptqPacking;
import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.runtime.cpu.GptqReference;
import io.paddock.testing.SharedModels;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The host re-pack the CUDA GPTQ kernels rely on: decoding the uploaded layout (sorted qweight, non-decreasing
 * gIdx, stored qzeros/scales) at sorted position p gives exactly the stored weight of original input perm[p].
 * Exact equality: both sides are the same f16·integer product.
 */
class GptqHostLayoutTests {

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-gptq-4bit-32g-actorder", "stories260K-gptq-3bit-32g-actorder",
            "stories260K-gptq-4bit-64g", "stories260K-gptq-2bit-32g", "stories260K-gptq-8bit-nogroup",
            "stories260K-gptq-legacy-4bit-32g"})
    void uploadedLayoutDecodesToTheStoredWeights(String name) {
        var dir = SharedModels.require(name);
        GptqOverrides ov = name.contains("legacy") ? new GptqOverrides(4, 32, null) : GptqOverrides.NONE;
        boolean sawPermutation = false;
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(dir, ov)) {
            for (LayerWeights l : ckpt.weights().layers()) {
                for (Linear lin : List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down())) {
                    GptqLinear g = (GptqLinear) lin;
                    GptqHostLayout h = GptqHostLayout.of(g);
                    sawPermutation |= h.perm() != null;
                    check(g, h);
                }
            }
        }
        assertThat(sawPermutation).isEqualTo(name.contains("actorder"));
    }

    private static void check(GptqLinear g, GptqHostLayout h) {
        int in = g.inFeatures(), out = g.outFeatures(), bits = g.spec().bits();
        int zeroWords = Math.toIntExact(g.qzeros().info().dim(1));
        for (int p = 1; p < in; p++) assertThat(h.gIdx()[p]).isGreaterThanOrEqualTo(h.gIdx()[p - 1]);
        float[] ref = GptqReference.dequantize(g); // (in, out)
        for (int p = 0; p < in; p++) {
            int orig = h.perm() == null ? p : h.perm()[p];
            int grp = h.gIdx()[p];
            for (int o = 0; o < out; o++) {
                int q = GptqPacking.extract(h.qweight(), o, out, bits, p);
                int z = GptqPacking.extract(g.qzeros().data(), (long) grp * zeroWords, 1, bits, o)
                        + (g.spec().zeroPlusOne() ? 1 : 0);
                float s = Float.float16ToFloat(g.scales().data().getAtIndex(LittleEndian.I16, (long) grp * out + o));
                assertThat(s * (q - z)).as("%s p=%d o=%d", g.name(), p, o).isEqualTo(ref[orig * out + o]);
            }
        }
    }
}
