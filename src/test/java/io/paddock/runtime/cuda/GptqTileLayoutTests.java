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
 * The tiled GPTQ layout at 2, 3, 4 and 8 bits, bit for bit: every code of qtiles (bit-pair, 3-bit, nibble or byte),
 * located by the layout's (lane, word, code) formula, holds the stored code of the original input its sorted position
 * maps to; zeros16, tileGroup and the half2 fragment reading agree (at 3 bits the spare-bit pair included);
 * ineligible layers are refused with a reason that names them.
 */
class GptqTileLayoutTests {

    @ParameterizedTest(name = "bits={5} in={0} out={1} group={2} act={3} zp1={4}")
    @CsvSource({
        "64, 64, 16, true, false, 4", "64, 64, 16, false, true, 4", "128, 128, 32, true, true, 4",
        "96, 192, 32, true, false, 4", "256, 64, 128, true, false, 4", "256, 128, 128, false, true, 4",
        "160, 64, -1, false, false, 4", "48, 128, -1, true, true, 4",
        "64, 64, 16, true, false, 8", "128, 128, 32, true, true, 8", "96, 192, 32, false, true, 8",
        "256, 64, 128, true, false, 8", "48, 128, -1, false, false, 8",
        "64, 64, 16, true, true, 2", "128, 128, 32, true, false, 2", "96, 192, 32, false, true, 2",
        "256, 64, 128, true, true, 2", "48, 128, -1, true, false, 2",
        "64, 64, 16, true, false, 3", "128, 128, 32, true, true, 3", "96, 192, 32, false, true, 3",
        "256, 64, 128, true, true, 3", "160, 64, -1, false, false, 3", "64, 128, -1, true, true, 3"})
    void everyCodeIsTheReferenceCode(int in, int out, int group, boolean act, boolean zeroPlusOne, int bits) {
        GptqLinear l = randomLayer(new SplittableRandom(31L * in + out + group + 1000L * bits), bits, in, out, group, act,
                zeroPlusOne);
        assertThat(GptqTileLayout.ineligibility(l)).isNull();
        GptqHostLayout h = GptqHostLayout.of(l);
        GptqTileLayout t = GptqTileLayout.pack(l, h);
        assertThat(t.bits()).isEqualTo(bits);
        assertThat(t.perm() != null).isEqualTo(act && group != -1);
        assertThat(t.qtiles()).hasSize(in * out * bits / 32);
        int kTiles = in / 16, mask = (1 << bits) - 1, pairs = 16 / bits;   // pairs: code pairs per word
        int halfMask = mask | (mask << 16);
        boolean[][] seen = new boolean[in][out];
        for (int nt = 0; nt < out / 64; nt++) {
            for (int kt = 0; kt < kTiles; kt++) {
                for (int lane = 0; lane < 32; lane++) {
                    int g = lane >> 2, tig = lane & 3;
                    if (bits == 3) {
                        // words L, 32 + L, 64 + L; pair m = 2·sub + r: m < 15 the shift-and-mask pair p = m mod 5 of
                        // word m / 5, m = 15 gathered from bits 15 and 31 of the three words
                        int tile = ((nt * kTiles) + kt) * 96;
                        int[] w = {t.qtiles()[tile + lane], t.qtiles()[tile + 32 + lane], t.qtiles()[tile + 64 + lane]};
                        for (int m = 0; m < 16; m++) {
                            int h2 = m < 15 ? ((w[m / 5] >>> (3 * (m % 5))) & 0x00070007) | 0x64006400
                                    : ((w[0] >>> 15) & 0x00010001) | ((w[1] >>> 14) & 0x00020002)
                                            | ((w[2] >>> 13) & 0x00040004) | 0x64006400;
                            int k0 = kt * 16 + 2 * tig + 8 * (m & 1), n = nt * 64 + 8 * (m >> 1) + g;
                            assertThat(Float.float16ToFloat((short) h2)).as("k=%d n=%d", k0, n)
                                    .isEqualTo(1024f + ref(l, h, k0, n));
                            assertThat(Float.float16ToFloat((short) (h2 >>> 16))).as("k=%d n=%d", k0 + 1, n)
                                    .isEqualTo(1024f + ref(l, h, k0 + 1, n));
                            assertThat(seen[k0][n] || seen[k0 + 1][n]).isFalse();
                            seen[k0][n] = seen[k0 + 1][n] = true;
                        }
                        continue;
                    }
                    for (int j = 0; j < bits; j++) {
                        // word j of the lane: 8 bits in two 16-byte halves of the tile, else b consecutive words
                        int at = bits == 8 ? 4 * lane + 128 * (j / 4) + j % 4 : bits * lane + j;
                        int w = t.qtiles()[((nt * kTiles) + kt) * 32 * bits + at];
                        for (int p = 0; p < 32 / bits; p++) {
                            int i = p % pairs, hi = p / pairs, sub = (pairs / 2) * j + (i >> 1), r = i & 1;
                            int k = kt * 16 + 2 * tig + hi + 8 * r, n = nt * 64 + 8 * sub + g;
                            assertThat((w >>> (bits * p)) & mask).as("k=%d n=%d", k, n).isEqualTo(ref(l, h, k, n));
                            assertThat(seen[k][n]).isFalse();
                            seen[k][n] = true;
                        }
                        // ((w >> b·i) & mask) | 0x64006400 as half2 = (1024 + q(k0, n), 1024 + q(k0 + 1, n))
                        for (int i = 0; i < pairs; i++) {
                            int h2 = ((w >>> (bits * i)) & halfMask) | 0x64006400;
                            int sub = (pairs / 2) * j + (i >> 1), r = i & 1;
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
                int z = GptqPacking.extract(l.qzeros().data(), (long) g * l.zeroWords(), 1, bits, n) + (zeroPlusOne ? 1 : 0);
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
        // 3 bits tile like the others; the shape and group rules hold for them too.
        assertThat(GptqTileLayout.ineligibility(randomLayer(rnd, 3, 64, 64, 32, true, false))).isNull();
        assertThat(GptqTileLayout.ineligibility(randomLayer(rnd, 3, 64, 96, 32, false, false)))
                .isEqualTo("test.proj: out = 96 is not a multiple of 64");
        GptqLinear threeG8 = randomLayer(rnd, 3, 64, 64, 8, true, false);
        assertThat(GptqTileLayout.ineligibility(threeG8)).startsWith("test.proj: group 0 has 8 inputs, not a multiple of 16");
        assertThatThrownBy(() -> GptqTileLayout.pack(threeG8, GptqHostLayout.of(threeG8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("test.proj: group 0 has 8");
        GptqLinear eightOdd = randomLayer(rnd, 8, 64, 96, -1, false, false);
        assertThat(GptqTileLayout.ineligibility(eightOdd)).isEqualTo("test.proj: out = 96 is not a multiple of 64");
        assertThat(GptqTileLayout.ineligibility(randomLayer(rnd, 2, 64, 64, 8, true, false)))
                .startsWith("test.proj: group 0 has 8 inputs, not a multiple of 16");
        // The config-only decision (GpuFootprint's hypothetical checkpoints): a partial last group must be whole tiles.
        assertThat(GptqTileLayout.eligible(4, 4096, 4096, 128)).isTrue();
        assertThat(GptqTileLayout.eligible(4, 11008, 4096, 128)).isTrue();    // last group 0 inputs: 11008 = 86·128
        assertThat(GptqTileLayout.eligible(4, 176, 64, 128)).isTrue();       // last group 48 inputs
        assertThat(GptqTileLayout.eligible(4, 168, 64, 128)).isFalse();
        assertThat(GptqTileLayout.eligible(4, 4096, 4096, -1)).isTrue();
        assertThat(GptqTileLayout.eligible(8, 4096, 4096, 128)).isTrue();
        assertThat(GptqTileLayout.eligible(2, 4096, 11008, 128)).isTrue();
        assertThat(GptqTileLayout.eligible(3, 4096, 4096, 128)).isTrue();
        assertThat(GptqTileLayout.eligible(3, 11008, 4096, 128)).isTrue();
        assertThat(GptqTileLayout.eligible(3, 4096, 4000, 128)).isFalse();
        assertThat(GptqTileLayout.eligible(3, 4096, 4096, 8)).isFalse();
        assertThat(GptqTileLayout.eligible(5, 4096, 4096, 128)).isFalse();
        assertThat(GptqTileLayout.eligible(8, 168, 64, 128)).isFalse();
        assertThat(GptqTileLayout.eligible(4, 4096, 4000, 128)).isFalse();
    }

    @ParameterizedTest(name = "bits={0} group={1} act={2}")
    @CsvSource({"4, 32, true", "4, -1, false", "8, 16, true", "2, 64, true", "3, 32, true"})
    void fusedLayersAreThePartsSideBySide(int bits, int group, boolean act) {
        // Layers quantized from one input (q/k/v): the same g_idx (a generator of the same seed shuffles it the
        // same way), different codes, zeros and scales (different widths draw differently).
        int in = 128;
        int[] outs = {128, 64, 192};
        java.util.List<GptqTileLayout> parts = new java.util.ArrayList<>();
        for (int out : outs) {
            GptqLinear l = randomLayer(new SplittableRandom(5), bits, in, out, group, act, out == 64);
            parts.add(GptqTileLayout.pack(l, GptqHostLayout.of(l)));
        }
        assertThat(GptqTileLayout.fusionMismatch(parts)).isNull();
        GptqTileLayout f = GptqTileLayout.concat(parts);
        assertThat(f.out()).isEqualTo(384);
        assertThat(f.qtiles()).hasSize(in * 384 * bits / 32);
        assertThat(f.perm()).isEqualTo(parts.getFirst().perm());
        assertThat(f.tileGroup()).isEqualTo(parts.getFirst().tileGroup());
        int col = 0;
        for (GptqTileLayout p : parts) {
            for (int n = 0; n < p.out(); n++) {
                for (int k = 0; k < in; k++) assertThat(f.code(k, col + n)).as("k=%d n=%d", k, col + n).isEqualTo(p.code(k, n));
                for (int g = 0; g < f.groups(); g++) {
                    assertThat(f.zeros16()[g * f.out() + col + n]).isEqualTo(p.zeros16()[g * p.out() + n]);
                }
            }
            col += p.out();
        }
        // Anything that would make one launch compute something else is refused, with the reason.
        GptqLinear other = randomLayer(new SplittableRandom(6), bits, in, 64, group, act, false);
        java.util.List<GptqTileLayout> mixed = java.util.List.of(parts.get(0), GptqTileLayout.pack(other, GptqHostLayout.of(other)));
        if (act && group != -1) {
            assertThat(GptqTileLayout.fusionMismatch(mixed)).isEqualTo("act-order permutations differ");
            assertThatThrownBy(() -> GptqTileLayout.concat(mixed)).hasMessageContaining("act-order permutations differ");
        }
        GptqLinear wider = randomLayer(new SplittableRandom(5), bits == 4 ? 8 : 4, in, 64, group, act, false);
        assertThat(GptqTileLayout.fusionMismatch(java.util.List.of(parts.get(0), GptqTileLayout.pack(wider,
                GptqHostLayout.of(wider))))).startsWith("code widths differ");
        GptqLinear longer = randomLayer(new SplittableRandom(5), bits, 2 * in, 64, group, act, false);
        assertThat(GptqTileLayout.fusionMismatch(java.util.List.of(parts.get(0), GptqTileLayout.pack(longer,
                GptqHostLayout.of(longer))))).isEqualTo("inputs differ (128 and 256)");
    }

    /** The stored code of original input perm[k] (the reference reader, on the checkpoint's own qweight). */
    private static int ref(GptqLinear l, GptqHostLayout h, int k, int n) {
        int orig = h.perm() == null ? k : h.perm()[k];
        return GptqPacking.extract(l.qweight().data(), n, l.outFeatures(), l.spec().bits(), orig);
    }

    /** Random 4-bit layer; with act-order g_idx is a random arrangement with {@code group} inputs per group. */
    static GptqLinear randomLayer(SplittableRandom rnd, int in, int out, int group, boolean act, boolean zeroPlusOne) {
        return randomLayer(rnd, 4, in, out, group, act, zeroPlusOne);
    }

    /** Random layer of {@code bits}-bit codes (in·bits a multiple of 32). */
    static GptqLinear randomLayer(SplittableRandom rnd, int bits, int in, int out, int group, boolean act,
                                  boolean zeroPlusOne) {
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
        int levels = 1 << bits, rows = in * bits / 32;
        int[] qw = new int[rows * out];
        int[] line = new int[in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) line[i] = rnd.nextInt(levels);
            GptqPacking.pack(line, 0, in, bits, qw, o, out);
        }
        int zWords = Math.ceilDiv(out * bits, 32);
        int[] qz = new int[groups * zWords];
        int[] zl = new int[out];
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < out; o++) zl[o] = rnd.nextInt(zeroPlusOne ? levels - 1 : levels);
            GptqPacking.pack(zl, 0, out, bits, qz, g * zWords, 1);
        }
        short[] sc = new short[groups * out];
        for (int i = 0; i < sc.length; i++) sc[i] = Float.floatToFloat16((float) rnd.nextDouble(1e-3, 0.05));
        GptqSpec spec = new GptqSpec(bits, group, act, true, zeroPlusOne);
        return new GptqLinear("test.proj", spec, in, out, tensor("q", DType.I32, MemorySegment.ofArray(qw), rows, out),
                tensor("z", DType.I32, MemorySegment.ofArray(qz), groups, zWords),
                tensor("s", DType.F16, MemorySegment.ofArray(sc), groups, out),
                tensor("g", DType.I32, MemorySegment.ofArray(gIdx), in), null);
    }

    private static Tensor tensor(String name, DType dt, MemorySegment data, long... shape) {
        return new Tensor(new TensorInfo(name, dt, shape, Path.of("memory"), 0, data.byteSize()), data);
    }
}
