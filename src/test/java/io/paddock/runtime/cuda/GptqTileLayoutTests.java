package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.format.DType;
import io.paddock.format.Tensor;
import io.paddock.format.TensorInfo;
import io.paddock.model.GptqLinear;
import io.paddock.model.GptqPacking;
import io.paddock.model.GptqSpec;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The tiled 4-bit GPTQ layout, bit for bit: every nibble of qtiles, located by the layout's (lane, word, nibble)
 * formula, holds the stored code of the original input its sorted position maps to; zeros16, tileGroup and the
 * half2 fragment reading agree; ineligible layers are refused with a reason that names them.
 */
class GptqTileLayoutTests {

    @ParameterizedTest(name = "in={0} out={1} group={2} act={3} zp1={4}")
    @CsvSource({
        "64, 64, 16, true, false", "64, 64, 16, false, true", "128, 128, 32, true, true", "96, 192, 32, true, false",
        "256, 64, 128, true, false", "256, 128, 128, false, true", "160, 64, -1, false, false", "48, 128, -1, true, true"})
    void everyNibbleIsTheReferenceCode(int in, int out, int group, boolean act, boolean zeroPlusOne) {
        GptqLinear l = randomLayer(new SplittableRandom(31L * in + out + group), in, out, group, act, zeroPlusOne);
        assertThat(GptqTileLayout.ineligibility(l)).isNull();
        GptqHostLayout h = GptqHostLayout.of(l);
        GptqTileLayout t = GptqTileLayout.pack(l, h);
        assertThat(t.perm() != null).isEqualTo(act && group != -1);
        assertThat(t.qtiles()).hasSize(in * out / 8);
        int kTiles = in / 16;
        boolean[][] seen = new boolean[in][out];
        for (int nt = 0; nt < out / 64; nt++) {
            for (int kt = 0; kt < kTiles; kt++) {
                for (int lane = 0; lane < 32; lane++) {
                    int g = lane >> 2, tig = lane & 3;
                    for (int j = 0; j < 4; j++) {
                        int w = t.qtiles()[((nt * kTiles) + kt) * 128 + lane * 4 + j];
                        for (int p = 0; p < 8; p++) {
                            int i = p & 3, hi = p >> 2, sub = 2 * j + (i >> 1), r = i & 1;
                            int k = kt * 16 + 2 * tig + hi + 8 * r, n = nt * 64 + 8 * sub + g;
                            assertThat((w >>> (4 * p)) & 0xf).as("k=%d n=%d", k, n).isEqualTo(ref(l, h, k, n));
                            assertThat(seen[k][n]).isFalse();
                            seen[k][n] = true;
                        }
                        // ((w >> 4i) & 0x000f000f) | 0x64006400 as half2 = (1024 + q(k0, n), 1024 + q(k0 + 1, n))
                        for (int i = 0; i < 4; i++) {
                            int h2 = ((w >>> (4 * i)) & 0x000f000f) | 0x64006400;
                            int sub = 2 * j + (i >> 1), r = i & 1;
                            int k0 = kt * 16 + 2 * tig + 8 * r, n = nt * 64 + 8 * sub + g;
                            assertThat(Float.float16ToFloat((short) h2)).isEqualTo(1024f + ref(l, h, k0, n));
                            assertThat(Float.float16ToFloat((short) (h2 >>> 16))).isEqualTo(1024f + ref(l, h, k0 + 1, n));
                        }
                    }
                }
            }
        }
        for (int k = 0; k < in; k++) {
            for (int n = 0; n < out; n++) {
                assertThat(seen[k][n]).isTrue();
                assertThat(t.code(k, n)).isEqualTo(ref(l, h, k, n));
            }
        }
        int groups = t.groups();
        for (int g = 0; g < groups; g++) {
            for (int n = 0; n < out; n++) {
                int z = GptqPacking.extract(l.qzeros().data(), (long) g * l.zeroWords(), 1, 4, n) + (zeroPlusOne ? 1 : 0);
                assertThat(Float.float16ToFloat(t.zeros16()[g * out + n])).isEqualTo(1024f + z);
            }
        }
        for (int k = 0; k < in; k++) {
            int orig = h.perm() == null ? k : h.perm()[k];
            assertThat(t.tileGroup()[k / 16]).as("k=%d", k).isEqualTo(l.group(orig));
        }
    }

    @Test
    void ineligibleLayersAreNamedWithTheReason() {
        SplittableRandom rnd = new SplittableRandom(7);
        assertThat(GptqTileLayout.ineligibility(randomLayer(rnd, 64, 32, 32, false, false)))
                .isEqualTo("test.proj: out = 32 is not a multiple of 64");
        assertThat(GptqTileLayout.ineligibility(randomLayer(rnd, 72, 64, -1, false, false)))
                .isEqualTo("test.proj: in = 72 is not a multiple of 16");
        assertThat(GptqTileLayout.ineligibility(randomLayer(rnd, 64, 64, 8, true, false)))
                .startsWith("test.proj: group 0 has 8 inputs, not a multiple of 16");
        GptqLinear g24 = randomLayer(rnd, 96, 64, 24, true, true);
        assertThat(GptqTileLayout.ineligibility(g24)).startsWith("test.proj: group 0 has 24 inputs");
        assertThat(GptqTileLayout.eligible(g24)).isFalse();
        assertThatThrownBy(() -> GptqTileLayout.pack(g24, GptqHostLayout.of(g24)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("test.proj: group 0 has 24");
        GptqLinear l = randomLayer(rnd, 64, 64, 32, false, false);
        GptqLinear threeBit = new GptqLinear("model.layers.3.mlp.up_proj", new GptqSpec(3, 32, false, true, false), 64, 64,
                l.qweight(), l.qzeros(), l.scales(), null, null);
        assertThat(GptqTileLayout.ineligibility(threeBit))
                .isEqualTo("model.layers.3.mlp.up_proj: 3-bit codes (the tiled layout is 4-bit only)");
        // The config-only decision (GpuFootprint's hypothetical checkpoints): a partial last group must be whole tiles.
        assertThat(GptqTileLayout.eligible(4, 4096, 4096, 128)).isTrue();
        assertThat(GptqTileLayout.eligible(4, 11008, 4096, 128)).isTrue();    // last group 0 inputs: 11008 = 86·128
        assertThat(GptqTileLayout.eligible(4, 176, 64, 128)).isTrue();       // last group 48 inputs
        assertThat(GptqTileLayout.eligible(4, 168, 64, 128)).isFalse();
        assertThat(GptqTileLayout.eligible(4, 4096, 4096, -1)).isTrue();
        assertThat(GptqTileLayout.eligible(8, 4096, 4096, 128)).isFalse();
        assertThat(GptqTileLayout.eligible(4, 4096, 4000, 128)).isFalse();
    }

    /** The stored code of original input perm[k] (the reference reader, on the checkpoint's own qweight). */
    private static int ref(GptqLinear l, GptqHostLayout h, int k, int n) {
        int orig = h.perm() == null ? k : h.perm()[k];
        return GptqPacking.extract(l.qweight().data(), n, l.outFeatures(), 4, orig);
    }

    /** Random 4-bit layer; with act-order g_idx is a random arrangement with {@code group} inputs per group. */
    static GptqLinear randomLayer(SplittableRandom rnd, int in, int out, int group, boolean act, boolean zeroPlusOne) {
        int groups = group == -1 ? 1 : Math.ceilDiv(in, group);
        int[] gIdx = new int[in];
        for (int i = 0; i < in; i++) gIdx[i] = group == -1 ? 0 : i / group;
        if (act) {
            for (int i = in - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1), s = gIdx[i];
                gIdx[i] = gIdx[j];
                gIdx[j] = s;
            }
        }
        int[] qw = new int[in / 8 * out];
        int[] line = new int[in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) line[i] = rnd.nextInt(16);
            GptqPacking.pack(line, 0, in, 4, qw, o, out);
        }
        int zWords = Math.ceilDiv(out * 4, 32);
        int[] qz = new int[groups * zWords];
        int[] zl = new int[out];
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < out; o++) zl[o] = rnd.nextInt(zeroPlusOne ? 15 : 16);
            GptqPacking.pack(zl, 0, out, 4, qz, g * zWords, 1);
        }
        short[] sc = new short[groups * out];
        for (int i = 0; i < sc.length; i++) sc[i] = Float.floatToFloat16((float) rnd.nextDouble(1e-3, 0.05));
        GptqSpec spec = new GptqSpec(4, group, act, true, zeroPlusOne);
        return new GptqLinear("test.proj", spec, in, out, tensor("q", DType.I32, MemorySegment.ofArray(qw), in / 8, out),
                tensor("z", DType.I32, MemorySegment.ofArray(qz), groups, zWords),
                tensor("s", DType.F16, MemorySegment.ofArray(sc), groups, out),
                tensor("g", DType.I32, MemorySegment.ofArray(gIdx), in), null);
    }

    private static Tensor tensor(String name, DType dt, MemorySegment data, long... shape) {
        return new Tensor(new TensorInfo(name, dt, shape, Path.of("memory"), 0, data.byteSize()), data);
    }
}
